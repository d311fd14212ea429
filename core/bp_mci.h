/*
 * Mass-casualty incidents (issue 6): the pure parts. A dispatcher declares
 * an MCI at a place; hospitals within range say how many Immediate /
 * Delayed / Minor patients they can take now; the dispatcher sees the
 * totals and a suggested distribution of the expected patients.
 *
 * The suggestion (bp_mci_suggest) fills the nearest hospitals first within
 * what each said it can take: Immediate patients to trauma-capable
 * hospitals first (then the rest, nearest first), Delayed nearest first,
 * Minor away from central hospitals first (they keep room for the severe).
 * Patients that fit nowhere are reported, never silently dropped.
 */
#ifndef BP_MCI_H
#define BP_MCI_H

#include "bp_error.h"

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    BP_TRIAGE_IMMEDIATE,
    BP_TRIAGE_DELAYED,
    BP_TRIAGE_MINOR,
    BP_TRIAGE__COUNT
} bp_triage_t;

const char *bp_triage_name(bp_triage_t t);
int bp_triage_parse(const char *s, size_t len); /* -1 unknown */

#define BP_MCI_COUNT_MAX 1000 /* patients of one triage class at one hospital or scene */

typedef struct {
    int hospital;   /* registry index */
    double eta_min; /* from the scene */
    bool answered;  /* said what it can take (else it takes nothing) */
    bool trauma;    /* trauma-capable (trauma or neurosurgery specialty) */
    bool central;   /* central tier */
    int can[BP_TRIAGE__COUNT];
} bp_mci_site_t;

/* alloc[i][t]: patients of triage t suggested for site i (zeroed here);
 * unplaced[t]: what fits nowhere. Stable: ties in ETA keep site order. */
void bp_mci_suggest(const bp_mci_site_t *sites, size_t n, const int expected[BP_TRIAGE__COUNT],
                    int (*alloc)[BP_TRIAGE__COUNT], int unplaced[BP_TRIAGE__COUNT]);

/* Request bodies, every error named:
 *   declare: {"lat":..,"lon":..,"radius_km":1..50 (10),"address":"..",
 *             "expected":{"immediate":n,"delayed":n,"minor":n}}
 *   answer:  {"immediate":n,"delayed":n,"minor":n} (all three)
 *   patient: {"triage":"immediate|delayed|minor","destination":"<hospital id>",
 *             "unit":"<call sign>" (optional)} */
typedef struct {
    double lat, lon, radius_km;
    char address[201];
    int expected[BP_TRIAGE__COUNT];
} bp_mci_declare_t;

int bp_mci_parse_declare(const char *json, size_t len, bp_mci_declare_t *out, bp_errors_t *errs);
int bp_mci_parse_answer(const char *json, size_t len, int counts[BP_TRIAGE__COUNT],
                        bp_errors_t *errs);

typedef struct {
    bp_triage_t triage;
    char destination[49];
    char unit[33];
} bp_mci_patient_t;

int bp_mci_parse_patient(const char *json, size_t len, bp_mci_patient_t *out, bp_errors_t *errs);

#endif

/*
 * The registry: what the deployment knows before any feed speaks —
 * districts, hospitals (names, tier, place, specialties, sister hospital,
 * staffed baselines, reporting interval), 115 stations and the fleet.
 * Loaded once at start from config/hospitals.json and config/fleet.json by
 * bp_codec, read-only afterwards. Lookups by id are binary searches over a
 * sorted index.
 */
#ifndef BP_REGISTRY_H
#define BP_REGISTRY_H

#include "bp_model.h"

#define BP_NAME_MAX       160 /* bytes of UTF-8 per language */
#define BP_PHONE_MAX      32
#define BP_REGISTRY_MAX   4096 /* hospitals, stations, districts or units */
#define BP_INTERVAL_MIN_S 60
#define BP_INTERVAL_MAX_S 86400
#define BP_HAVE_ID_MAX    64 /* a partner system's id of a hospital (EDXL-HAVE xnl:ID) */

typedef enum {
    BP_SPEC_CARDIOLOGY,
    BP_SPEC_CARDIAC_SURGERY,
    BP_SPEC_STROKE,
    BP_SPEC_NEUROSURGERY,
    BP_SPEC_TRAUMA,
    BP_SPEC_ORTHOPEDICS,
    BP_SPEC_BURNS,
    BP_SPEC_OBSTETRICS,
    BP_SPEC_NEONATOLOGY,
    BP_SPEC_PEDIATRICS,
    BP_SPEC_ONCOLOGY,
    BP_SPEC_INFECTIOUS_DISEASE,
    BP_SPEC_RESPIRATORY,
    BP_SPEC_PSYCHIATRY,
    BP_SPEC_NEPHROLOGY,
    BP_SPEC_TOXICOLOGY,
    BP_SPEC_GENERAL_SURGERY,
    BP_SPEC_INTERNAL_MEDICINE,
    BP_SPEC_OPHTHALMOLOGY,
    BP_SPEC_ENT,
    BP_SPEC_GERIATRICS,
    BP_SPEC_TRADITIONAL_MEDICINE,
    BP_SPEC__COUNT
} bp_specialty_t;

const char *bp_specialty_name(bp_specialty_t s);
int bp_specialty_parse(const char *s, size_t len);

typedef struct {
    char vi[BP_NAME_MAX + 1];
    char en[BP_NAME_MAX + 1];
} bp_name_t;

typedef struct {
    char id[BP_ID_MAX + 1];
    bp_name_t name;
} bp_district_t;

typedef struct {
    char id[BP_ID_MAX + 1];
    bp_name_t name;
    bp_tier_t tier;
    int district; /* index into districts */
    double lat, lon;
    uint32_t specialties; /* bit per bp_specialty_t */
    int sister;           /* index into hospitals, -1 none */
    char phone[BP_PHONE_MAX + 1];
    int32_t report_interval_s;
    uint32_t beds_mask; /* bed types the hospital has */
    int32_t staffed[BP_BED__COUNT];
    int32_t surge24[BP_BED__COUNT];
    char have_id[BP_HAVE_ID_MAX + 1]; /* "" none: HAVE documents use our id */
    uint32_t services;                /* bit per bp_service_t: the services it has */
} bp_hospital_info_t;

typedef struct {
    char id[BP_ID_MAX + 1];
    bp_name_t name;
    int district;
    double lat, lon;
} bp_station_t;

typedef struct {
    char id[BP_CALLSIGN_MAX + 1];
    int station; /* index into stations */
} bp_unit_t;

typedef struct {
    bp_district_t *districts;
    size_t n_districts;
    bp_hospital_info_t *hospitals;
    size_t n_hospitals;
    bp_station_t *stations;
    size_t n_stations;
    bp_unit_t *units;
    size_t n_units;
    /* sorted indexes for lookups, built by bp_registry_index() */
    int *hospital_order, *unit_order, *district_order, *station_order;
} bp_registry_t;

/* Frees everything the registry owns; the struct itself is the caller's. */
void bp_registry_free(bp_registry_t *r);

/* Builds the sorted indexes; fails (-1) on a duplicate id, naming it. */
int bp_registry_index(bp_registry_t *r, char *dup_id, size_t dup_len);

/* Index of the entry with this id, or -1. */
int bp_registry_hospital(const bp_registry_t *r, const char *id, size_t len);
int bp_registry_unit(const bp_registry_t *r, const char *id, size_t len);
int bp_registry_district(const bp_registry_t *r, const char *id, size_t len);
int bp_registry_station(const bp_registry_t *r, const char *id, size_t len);

/* A hospital as a partner system names it (EDXL-HAVE xnl:ID, FHIR
 * identifier): our id, else a registry have_id. Index, or -1. */
int bp_registry_hospital_external(const bp_registry_t *r, const char *id, size_t len);
/* [A-Za-z0-9._:/-]{1,64} */
bool bp_registry_is_have_id(const char *s, size_t len);

/* A hospital's initial state: its staffed baseline and surge per bed type,
 * occupancy unknown, never reported. */
void bp_registry_base_state(const bp_hospital_info_t *h, bp_hospital_state_t *out);

/* The area a deployment serves: the box around its hospitals and stations,
 * widened by BP_AREA_MARGIN_DEG on every side (for Hanoi's registry about
 * 20.44-21.51 N, 105.20-106.19 E, which holds the whole city). A position
 * outside it is not plausible (lat/lon swapped, 0/0, another city). With
 * nothing in the registry: the whole globe. */
#define BP_AREA_MARGIN_DEG 0.25
typedef struct {
    double lat_min, lat_max, lon_min, lon_max;
} bp_area_t;
void bp_registry_area(const bp_registry_t *r, bp_area_t *out);

/* Sum of the staffed baselines over all hospitals and bed types. */
int64_t bp_registry_staffed_total(const bp_registry_t *r);

#endif

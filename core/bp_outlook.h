/*
 * The 24-hour outlook (issue 15, part 4): hourly forecasts of occupied beds
 * of one bed type from its own history. Pure; no allocation (bounded
 * arrays on the stack), no I/O.
 *
 * Method (docs/outlook.md): the hourly series is split into
 *   - a profile by hour of week: each hour's deviation from the mean of the
 *     whole week (or whole days) around it, averaged by hour of day, plus a
 *     per-hour-of-week correction shrunk toward zero while few weeks back it;
 *   - a level: the exponentially weighted mean of what the profile leaves,
 *     so a slow rise or fall (an epidemic, a closed ward) moves the forecast;
 *   - the current hour's own deviation from that level, which fades hour
 *     by hour, so the first hours start from "now".
 * The level's weighting and the fading rate are picked from a small grid,
 * the pair whose forecasts from the series' own past hours erred least.
 * The 80 % interval is the 10th and 90th percentile of the errors the same
 * forecast made at each horizon from earlier hours of the series, scaled
 * per horizon so that it would have held 80 % of the errors of forecasts
 * made out of sample over the last 72 hours (split-conformal). Values
 * are clipped to [0, staffed], or to the highest figure of the history
 * where a hospital already ran above its staffed beds (central Hanoi
 * hospitals do, two patients to a bed).
 */
#ifndef BP_OUTLOOK_H
#define BP_OUTLOOK_H

#include "bp_history.h"
#include "bp_jw.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BP_OUTLOOK_HORIZON    24        /* hours forecast */
#define BP_OUTLOOK_WEEK       168       /* hours */
#define BP_OUTLOOK_MIN_HOURS  36        /* known hourly values needed: a day and a half */
#define BP_OUTLOOK_MAX_HOURS  (4 * 168) /* hourly values used (older ones ignored) */
#define BP_HOUR_MS            3600000LL
#define BP_OUTLOOK_BAND_FLOOR 0.5 /* beds: a band side narrower counts as this wide */

typedef struct {
    int64_t t_ms;
    double mean, lower, upper;
} bp_outlook_point_t;

typedef enum {
    BP_OUTLOOK_OK = 0,
    BP_OUTLOOK_INSUFFICIENT, /* too little history: no forecast at all */
} bp_outlook_status_t;

typedef struct {
    bp_outlook_status_t status;
    int hours_known; /* known hourly values the forecast rests on */
    bool weekly;     /* the profile has an hour-of-week part (>= 2 weeks) */
    double now;      /* the current value (the last hour) */
    double staffed;  /* the current staffed beds, -1 unknown */
    double cap;      /* the upper clip */
    bool calibrated; /* the band is scaled by out-of-sample errors (else widened by a rule) */
    double scale[BP_OUTLOOK_HORIZON]; /* the factor applied to the raw band at each horizon */
    /* the hourly values of the last 24 hours the forecast starts from,
     * recent[23] = now at t_last; NAN where missing */
    double recent[BP_OUTLOOK_HORIZON];
    int64_t t_last_ms;
    bp_outlook_point_t p[BP_OUTLOOK_HORIZON];
} bp_outlook_t;

/* Forecasts hours 1..24 after y[n-1] (the hour at t_last_ms) from the
 * hourly values y[0..n) (oldest first, NAN where missing). staffed < 0:
 * unknown (then the clip is the highest value seen). Returns status, also
 * in out->status; INSUFFICIENT when fewer than BP_OUTLOOK_MIN_HOURS values
 * are known or the last one is missing. */
bp_outlook_status_t bp_outlook_forecast(const double *y, size_t n, int64_t t_last_ms,
                                        double staffed, bp_outlook_t *out);

/* Hourly values from a history series: y[t][k] is bed type t's occupied
 * in the newest sample of the hour ending at t_last - (n-1-k) h, t_last the
 * newest sample's time; NAN where the hour has no sample or that sample
 * lacks the type. Only the types with y[t] != NULL are filled. Returns n
 * (at most cap, the newest hours; 0 for an empty series); staffed[t] is the
 * newest known staffed (-1 none). One walk of the series for every type. */
size_t bp_outlook_hourly_all(const bp_series_t *s, double *const y[BP_BED__COUNT], size_t cap,
                             int64_t *t_last_ms, double staffed[BP_BED__COUNT]);
/* The same for one bed type. */
size_t bp_outlook_hourly(const bp_series_t *s, int bed_type, double *y, size_t cap,
                         int64_t *t_last_ms, double *staffed);

/* The band's calibration, exposed for its tests. bp_outlook_score: how
 * many times the band side on the error's side (lower <= 0 <= upper, each
 * side taken at least BP_OUTLOOK_BAND_FLOOR wide) the error err is; 0 for
 * no error. bp_outlook_conformal: the ceil((m + 1) * coverage)-th smallest
 * of score[0..m) (reordered), the split-conformal quantile: a band scaled
 * by it holds a new error exchangeable with those m with probability at
 * least coverage; NAN for m < 1. */
double bp_outlook_score(double err, double lower, double upper);
double bp_outlook_conformal(double *score, int m, double coverage);

/* The first horizon (1..24) whose mean reaches staffed while the current
 * value is below it; 0 if none (or unknown staffed, or no forecast). */
int bp_outlook_full_within(const bp_outlook_t *o);

/* The outlook of every bed type of one series (the city or a hospital)
 * that its newest sample has. */
typedef struct {
    uint32_t mask; /* bed types with an entry */
    int64_t t_last_ms;
    bp_outlook_t type[BP_BED__COUNT];
} bp_outlook_set_t;

void bp_outlook_series(const bp_series_t *s, bp_outlook_set_t *out);
/* {"<bed type>":<bp_outlook_write>,...} */
void bp_outlook_set_write(bp_jw_t *w, const bp_outlook_set_t *o);

/* One bed type's outlook as a JSON object:
 * {"status":"ok","now":..,"staffed":..,"full_within_h":..|null,
 *  "recent":[{"t","occupied"}] (the known hours of the last 24, the last now),
 *  "points":[{"t","mean","lower","upper"}]}
 * or {"status":"insufficient_history","hours_known":..,"hours_needed":36}. */
void bp_outlook_write(bp_jw_t *w, const bp_outlook_t *o);

#endif

/*
 * Time on the wire is ISO 8601 / RFC 3339 with an explicit zone
 * ("2026-11-22T08:00:00+07:00", "...Z", optional fraction); inside the
 * system it is int64 milliseconds since the Unix epoch (UTC). Conversions
 * are pure arithmetic (no TZ database, no locale), so they behave the same
 * in every process and in the fuzzer.
 */
#ifndef BP_TIME_H
#define BP_TIME_H

#include <stddef.h>
#include <stdint.h>

#define BP_TIME_ISO_LEN 24 /* "2026-11-22T01:00:00.000Z" without the NUL */

/* Parses an RFC 3339 timestamp of exactly len bytes. A zone (Z or +hh:mm)
 * is required: a figure without a zone would be ambiguous between the
 * hospital's clock and ours. Years 2000..2199 only. Returns 0 and sets *out,
 * or -1 when the text is not such a timestamp. */
int bp_time_parse(const char *s, size_t len, int64_t *out_ms);

/* Writes "YYYY-MM-DDTHH:MM:SS.mmmZ" plus NUL into buf (>= 25 bytes).
 * Returns the number of characters written (24). */
int bp_time_format(int64_t ms, char *buf);

/* Wall clock in milliseconds (CLOCK_REALTIME). */
int64_t bp_time_now_ms(void);

/* Monotonic clock in nanoseconds, for measuring durations. */
uint64_t bp_time_mono_ns(void);

#endif

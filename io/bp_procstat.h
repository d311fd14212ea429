/*
 * What a program says about itself on /metrics: the standard process_*
 * metrics (CPU, memory, file descriptors, start time; from /proc/self) and
 * bedpulse_build_info (version and git commit of the build).
 */
#ifndef BP_PROCSTAT_H
#define BP_PROCSTAT_H

#include "bp_buf.h"

#include <stdint.h>

extern const char bp_version[];
extern const char bp_commit[];

/* started_ms: the program's start, wall clock. */
void bp_process_metrics(bp_buf_t *o, const char *program, int64_t started_ms);

#endif

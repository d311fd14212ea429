/* process_* metrics from /proc/self, and the build's identity (bp_procstat.h). */
#include "bp_procstat.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static size_t open_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    if (!d) return 0;
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n > 0 ? n - 1 : 0; /* not the one opendir holds */
}

void bp_process_metrics(bp_buf_t *o, const char *program, int64_t started_ms) {
    unsigned long utime = 0, stime = 0, vsize = 0;
    long rss = 0;
    FILE *f = fopen("/proc/self/stat", "r");
    if (f) {
        char buf[1024];
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        buf[n] = '\0';
        fclose(f);
        /* fields after the command name, which is in parentheses and may
         * hold anything: start after the last ')' (field 3 onwards) */
        const char *p = strrchr(buf, ')');
        if (p && sscanf(p + 2,
                        "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d %*d "
                        "%*d %*u %lu %ld",
                        &utime, &stime, &vsize, &rss) != 4)
            utime = stime = vsize = 0, rss = 0;
    }
    long ticks = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    struct rlimit rl = {0, 0};
    getrlimit(RLIMIT_NOFILE, &rl);
    bp_buf_printf(o,
                  "# HELP process_cpu_seconds_total User and system CPU time spent in seconds.\n"
                  "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total %.2f\n"
                  "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
                  "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes %lld\n"
                  "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
                  "# TYPE process_virtual_memory_bytes gauge\nprocess_virtual_memory_bytes %lu\n"
                  "# HELP process_open_fds Number of open file descriptors.\n"
                  "# TYPE process_open_fds gauge\nprocess_open_fds %zu\n"
                  "# HELP process_max_fds Maximum number of open file descriptors.\n"
                  "# TYPE process_max_fds gauge\nprocess_max_fds %llu\n"
                  "# HELP process_start_time_seconds Start time of the process since unix epoch in "
                  "seconds.\n"
                  "# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds %.3f\n",
                  ticks > 0 ? (double)(utime + stime) / (double)ticks : 0.0,
                  (long long)rss * (page > 0 ? page : 4096), vsize, open_fds(),
                  (unsigned long long)rl.rlim_cur, (double)started_ms / 1000.0);
    bp_buf_printf(o,
                  "# HELP bedpulse_build_info The build: version and git commit (value 1).\n"
                  "# TYPE bedpulse_build_info gauge\n"
                  "bedpulse_build_info{program=\"%s\",version=\"%s\",commit=\"%s\"} 1\n",
                  program, bp_version, bp_commit);
}

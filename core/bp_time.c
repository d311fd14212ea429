/* RFC 3339 parsing and formatting without the C library's time zone state. */
#include "bp_time.h"

#include <time.h>

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d) {
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t yy = (int64_t)yoe + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (*m <= 2));
}

static int digits(const char *s, size_t n, int *out) {
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int is_leap(int y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int bp_time_parse(const char *s, size_t len, int64_t *out_ms) {
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h, mi, se, ms = 0;
    if (!s || len < 20) return -1;
    if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
        digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' ||
        digits(s + 17, 2, &se))
        return -1;
    if (y < 2000 || y > 2199 || mo < 1 || mo > 12 || d < 1) return -1;
    if (d > mdays[mo - 1] + (mo == 2 && is_leap(y))) return -1;
    if (h > 23 || mi > 59 || se > 60) return -1; /* 60: a leap second, folded below */
    size_t i = 19;
    if (i < len && s[i] == '.') {
        size_t start = ++i;
        int scale = 100;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (i - start >= 9) return -1;
            ms += (s[i] - '0') * scale;
            scale /= 10;
            i++;
        }
        if (i == start) return -1;
    }
    if (i >= len) return -1;
    int64_t zone_s = 0;
    if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == len) {
        zone_s = 0;
    } else if ((s[i] == '+' || s[i] == '-') && i + 6 == len && s[i + 3] == ':') {
        int zh, zm;
        if (digits(s + i + 1, 2, &zh) || digits(s + i + 4, 2, &zm) || zh > 23 || zm > 59) return -1;
        zone_s = (zh * 3600 + zm * 60) * (s[i] == '+' ? 1 : -1);
    } else {
        return -1;
    }
    if (se == 60) se = 59;
    int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + se - zone_s;
    *out_ms = secs * 1000 + ms;
    return 0;
}

int bp_time_format(int64_t ms, char *buf) {
    int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    int msec = (int)(ms - secs * 1000);
    int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    int rem = (int)(secs - days * 86400);
    int y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    /* Fixed-width formatting by hand: this runs for every event sent. */
    char *p = buf;
    int yy = y < 0 ? 0 : (y > 9999 ? 9999 : y);
    *p++ = (char)('0' + yy / 1000);
    *p++ = (char)('0' + yy / 100 % 10);
    *p++ = (char)('0' + yy / 10 % 10);
    *p++ = (char)('0' + yy % 10);
    *p++ = '-';
    *p++ = (char)('0' + m / 10);
    *p++ = (char)('0' + m % 10);
    *p++ = '-';
    *p++ = (char)('0' + d / 10);
    *p++ = (char)('0' + d % 10);
    *p++ = 'T';
    int hh = rem / 3600, mi = rem / 60 % 60, ss = rem % 60;
    *p++ = (char)('0' + hh / 10);
    *p++ = (char)('0' + hh % 10);
    *p++ = ':';
    *p++ = (char)('0' + mi / 10);
    *p++ = (char)('0' + mi % 10);
    *p++ = ':';
    *p++ = (char)('0' + ss / 10);
    *p++ = (char)('0' + ss % 10);
    *p++ = '.';
    *p++ = (char)('0' + msec / 100);
    *p++ = (char)('0' + msec / 10 % 10);
    *p++ = (char)('0' + msec % 10);
    *p++ = 'Z';
    *p = '\0';
    return (int)(p - buf);
}

int64_t bp_time_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t bp_time_mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

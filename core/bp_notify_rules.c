/* Webhook bodies and signatures, e-mails, retry schedule (see bp_notify_rules.h). */
#include "bp_notify_rules.h"
#include "bp_auth.h"

#include "bp_crypto.h"
#include "bp_jw.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

/* -- webhooks ----------------------------------------------------------------------------- */

static void hospitals_array(bp_jw_t *w, const char *list) {
    bp_jw_arr(w);
    const char *p = list ? list : "";
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t l = comma ? (size_t)(comma - p) : strlen(p);
        if (l) bp_jw_str(w, p, l);
        p += l + (comma ? 1 : 0);
    }
    bp_jw_end(w);
}

static const char *text_in(const bp_event_t *ev, const char *lang) {
    const char *t = strcmp(lang, "en") == 0 ? ev->text_en : ev->text_vi;
    return t && *t ? t : (ev->text_en ? ev->text_en : "");
}

void bp_webhook_body(bp_buf_t *b, const bp_event_t *ev, const char *sub_id, const char *lang) {
    bp_jw_t w;
    bp_jw_init(&w, b);
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "id");
    bp_jw_cstr(&w, ev->id);
    BP_JW_KEY(&w, "type");
    bp_jw_cstr(&w, bp_event_type_name(ev->type));
    BP_JW_KEY(&w, "at");
    bp_jw_time(&w, ev->at_ms);
    BP_JW_KEY(&w, "level");
    bp_jw_int(&w, ev->level);
    BP_JW_KEY(&w, "hospitals");
    hospitals_array(&w, ev->hospitals);
    BP_JW_KEY(&w, "lang");
    bp_jw_cstr(&w, lang);
    BP_JW_KEY(&w, "text");
    bp_jw_cstr(&w, text_in(ev, lang));
    BP_JW_KEY(&w, "subscription");
    bp_jw_cstr(&w, sub_id);
    BP_JW_KEY(&w, "data");
    if (ev->data && ev->data_len && ev->data[0] == '{')
        bp_jw_raw(&w, ev->data, ev->data_len);
    else
        bp_jw_raw(&w, "{}", sizeof "{}" - 1);
    bp_jw_end(&w);
}

void bp_webhook_sign(const char *secret, size_t secret_len, const void *body, size_t body_len,
                     char out[BP_SIGNATURE_LEN + 1]) {
    static const char prefix[] = "sha256=";
    unsigned char mac[BP_SHA256_LEN];
    memcpy(out, prefix, sizeof prefix - 1);
    char *hex = out + sizeof prefix - 1;
    if (bp_hmac_sha256(secret, secret_len, body, body_len, mac) != 0) {
        memset(hex, '0', 2 * sizeof mac);
        out[BP_SIGNATURE_LEN] = '\0';
        return;
    }
    bp_hex(mac, sizeof mac, hex);
}

/* -- e-mail ----------------------------------------------------------------------------------- */

/* days since 1970-01-01 -> y, m, d (Howard Hinnant's civil_from_days) */
static void civil(int64_t z, int *y, int *m, int *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

typedef struct {
    int y, mo, d, h, mi, s, wday;
} local_t;

static void local_time(int64_t ms, int off_min, local_t *t) {
    int64_t sec = ms / 1000 + (int64_t)off_min * 60;
    if (ms < 0 && ms % 1000) sec--;
    int64_t days = sec >= 0 ? sec / 86400 : (sec - 86399) / 86400;
    int64_t rem = sec - days * 86400;
    civil(days, &t->y, &t->mo, &t->d);
    t->h = (int)(rem / 3600);
    t->mi = (int)(rem / 60 % 60);
    t->s = (int)(rem % 60);
    t->wday = (int)(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday (4) */
}

void bp_rfc5322_date(int64_t ms, int off, char *out, size_t len) {
    static const char *const wd[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const mn[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    local_t t;
    local_time(ms, off, &t);
    int a = off < 0 ? -off : off;
    snprintf(out, len, "%s, %d %s %04d %02d:%02d:%02d %c%02d%02d", wd[t.wday], t.d, mn[t.mo - 1],
             t.y, t.h, t.mi, t.s, off < 0 ? '-' : '+', a / 60, a % 60);
}

/* base64 of (p, n) in lines of at most 76 characters, CRLF after each. */
static void base64_lines(bp_buf_t *b, const char *p, size_t n) {
    unsigned char enc[80];
    for (size_t i = 0; i < n; i += 57) {
        size_t k = n - i < 57 ? n - i : 57;
        int w = EVP_EncodeBlock(enc, (const unsigned char *)p + i, (int)k);
        bp_buf_put(b, enc, (size_t)w);
        bp_buf_puts(b, "\r\n");
    }
}

/* A header value in RFC 2047 encoded words (UTF-8, base64), folded, each
 * word holding whole characters. */
static void encoded_words(bp_buf_t *b, const char *s) {
    size_t n = strlen(s), i = 0;
    unsigned char enc[80];
    int words = 0;
    while (i < n) {
        size_t k = n - i < 45 ? n - i : 45;
        while (k < n - i && k > 0 && ((unsigned char)s[i + k] & 0xc0) == 0x80)
            k--;
        if (k == 0) k = 1;
        int w = EVP_EncodeBlock(enc, (const unsigned char *)s + i, (int)k);
        if (words++) bp_buf_puts(b, "\r\n ");
        bp_buf_puts(b, "=?UTF-8?B?");
        bp_buf_put(b, enc, (size_t)w);
        bp_buf_puts(b, "?=");
        i += k;
    }
}

static void html_escape(bp_buf_t *b, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '<': bp_buf_puts(b, "&lt;"); break;
        case '>': bp_buf_puts(b, "&gt;"); break;
        case '&': bp_buf_puts(b, "&amp;"); break;
        case '"': bp_buf_puts(b, "&quot;"); break;
        default: bp_buf_putc(b, *s); break;
        }
    }
}

typedef struct {
    const char *title[BP_EV__COUNT];
    const char *time, *level, *event, *footer1, *footer2, *zone;
} words_t;

static const words_t VI = {
    {"Cảnh báo mới", "Hết cảnh báo", "Cảnh báo đã được xác nhận", "Trạng thái khoa cấp cứu",
     "Bệnh viện ngừng báo cáo", "Công bố sự cố nhiều nạn nhân", "Kết thúc sự cố nhiều nạn nhân"},
    "Thời gian",
    "Mức áp lực",
    "Mã sự kiện",
    "Bạn nhận thư này vì đã đăng ký nhận thông báo BedPulse (mã đăng ký ",
    "). Quản lý hoặc hủy đăng ký trên trang Tài khoản (/account) của BedPulse.",
    "giờ địa phương",
};

static const words_t EN = {
    {"New alert", "Alert over", "Alert acknowledged", "Emergency department status",
     "Hospital stopped reporting", "Mass-casualty incident declared",
     "Mass-casualty incident closed"},
    "Time",
    "Pressure level",
    "Event id",
    "You receive this because of your BedPulse subscription ",
    ". Manage or cancel it on the Account page (/account) of BedPulse.",
    "local time",
};

void bp_email_message(bp_buf_t *b, const bp_event_t *ev, const char *from, const char *to,
                      const char *sub_id, const char *lang, int off) {
    const words_t *w = strcmp(lang, "en") == 0 ? &EN : &VI;
    const char *text = text_in(ev, lang);
    const char *title = (unsigned)ev->type < BP_EV__COUNT ? w->title[ev->type] : "BedPulse";
    char date[48], when[96], footer[400], subject[BP_EVENT_TEXT_MAX + 32];
    bp_rfc5322_date(ev->at_ms, off, date, sizeof date);
    local_t t;
    local_time(ev->at_ms, off, &t);
    int a = off < 0 ? -off : off;
    snprintf(when, sizeof when, "%02d:%02d %02d/%02d/%04d (%s, UTC%c%02d:%02d)", t.h, t.mi, t.d,
             t.mo, t.y, w->zone, off < 0 ? '-' : '+', a / 60, a % 60);
    snprintf(footer, sizeof footer, "%s%s%s", w->footer1, sub_id, w->footer2);
    snprintf(subject, sizeof subject, "[BedPulse] %s", text);
    const char *at = strrchr(from, '@');
    char boundary[96];
    snprintf(boundary, sizeof boundary, "bp-%s-%s", ev->id, sub_id);

    bp_buf_printf(b, "From: BedPulse <%s>\r\nTo: <%s>\r\nSubject: ", from, to);
    encoded_words(b, subject);
    bp_buf_printf(b,
                  "\r\nDate: %s\r\nMessage-ID: <%s.%s@%s>\r\nAuto-Submitted: auto-generated\r\n"
                  "Content-Language: %s\r\nMIME-Version: 1.0\r\n"
                  "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n",
                  date, ev->id, sub_id, at && at[1] ? at + 1 : "bedpulse.invalid", lang, boundary);
    bp_buf_printf(b,
                  "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                  "Content-Transfer-Encoding: base64\r\n\r\n",
                  boundary);
    bp_buf_t plain;
    bp_buf_init(&plain, 0, 64u << 10);
    bp_buf_printf(&plain, "%s\r\n\r\n%s\r\n\r\n%s: %s\r\n%s: %d\r\n%s: %s\r\n\r\n%s\r\n", title,
                  text, w->time, when, w->level, ev->level, w->event, ev->id, footer);
    base64_lines(b, bp_buf_data(&plain), plain.len);
    bp_buf_free(&plain);
    bp_buf_printf(b,
                  "\r\n--%s\r\nContent-Type: text/html; charset=utf-8\r\n"
                  "Content-Transfer-Encoding: base64\r\n\r\n",
                  boundary);
    bp_buf_t html;
    bp_buf_init(&html, 0, 64u << 10);
    bp_buf_printf(&html, "<!doctype html><html lang=\"%s\"><head><meta charset=\"utf-8\"><title>",
                  lang);
    html_escape(&html, title);
    bp_buf_puts(&html, "</title></head><body><p><strong>");
    html_escape(&html, title);
    bp_buf_puts(&html, "</strong></p><p style=\"font-size:1.2em\">");
    html_escape(&html, text);
    bp_buf_puts(&html, "</p><table><tr><th align=\"left\">");
    html_escape(&html, w->time);
    bp_buf_puts(&html, "</th><td>");
    html_escape(&html, when);
    bp_buf_puts(&html, "</td></tr><tr><th align=\"left\">");
    html_escape(&html, w->level);
    bp_buf_printf(&html, "</th><td>%d</td></tr><tr><th align=\"left\">", ev->level);
    html_escape(&html, w->event);
    bp_buf_puts(&html, "</th><td>");
    html_escape(&html, ev->id);
    bp_buf_puts(&html, "</td></tr></table><p style=\"color:#555\">");
    html_escape(&html, footer);
    bp_buf_puts(&html, "</p></body></html>\r\n");
    base64_lines(b, bp_buf_data(&html), html.len);
    bp_buf_free(&html);
    bp_buf_printf(b, "\r\n--%s--\r\n", boundary);
}

/* -- retries ---------------------------------------------------------------------------------- */

void bp_retry_defaults(bp_retry_cfg_t *c) {
    c->base_ms = 5000;
    c->cap_ms = 10 * 60 * 1000;
    c->max_age_ms = 60 * 60 * 1000;
    c->max_attempts = 30;
}

int64_t bp_retry_next(const bp_retry_cfg_t *c, int attempts, int64_t first_ms, int64_t now_ms,
                      uint32_t rnd) {
    if (attempts < 1) attempts = 1;
    if (attempts >= c->max_attempts || now_ms >= first_ms + c->max_age_ms) return -1;
    int64_t d = c->base_ms;
    for (int i = 1; i < attempts && d < c->cap_ms; i++)
        d *= 2;
    if (d > c->cap_ms) d = c->cap_ms;
    /* between half and all of it: servers that failed together do not
     * come back together */
    int64_t half = d / 2;
    d = half + (half > 0 ? (int64_t)(rnd % (uint64_t)(half + 1)) : 0);
    if (d < 1) d = 1;
    int64_t next = now_ms + d;
    if (next > first_ms + c->max_age_ms) next = first_ms + c->max_age_ms;
    return next;
}

bp_outcome_t bp_http_outcome(long status) {
    if (status >= 200 && status < 300) return BP_OUTCOME_OK;
    if (status == 0 || status == 408 || status == 425 || status == 429 || status >= 500)
        return BP_OUTCOME_RETRY;
    return BP_OUTCOME_PERMANENT;
}

bp_outcome_t bp_smtp_outcome(long code) {
    if (code >= 200 && code < 300) return BP_OUTCOME_OK;
    if (code >= 500 && code < 600) return BP_OUTCOME_PERMANENT;
    return BP_OUTCOME_RETRY;
}

/*
 * One notification's delivery (notifier_int.h): a claimed job becomes a
 * delivery; its host is resolved (and checked against private addresses),
 * the webhook POST or the e-mail is sent over libcurl, and the outcome
 * (done, retry later, dead letter) goes back to Redis. The scheduling that
 * claims jobs is in notifier.c.
 */
#include "bp_httputil.h"
#include "bp_jw.h"
#include "bp_log.h"
#include "bp_notify_rules.h"
#include "bp_rargs.h"
#include "bp_substore.h"
#include "bp_time.h"
#include "notifier_int.h"

#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <netdb.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESPONSE_MAX (64u << 10) /* a receiver's answer is read and dropped, up to this */
#define USER_AGENT   "BedPulse-Notifications/1"

const char *bp_notify_field(const redisReply *h, const char *name, size_t *len) {
    for (size_t i = 0; h && h->type == REDIS_REPLY_ARRAY && i + 1 < h->elements; i += 2)
        if (h->element[i]->type == REDIS_REPLY_STRING && strcmp(h->element[i]->str, name) == 0 &&
            h->element[i + 1]->type == REDIS_REPLY_STRING) {
            if (len) *len = h->element[i + 1]->len;
            return h->element[i + 1]->str;
        }
    if (len) *len = 0;
    return "";
}

/* -- delivery
 * --------------------------------------------------------------------------------------- */

static void delivery_free(delivery_t *d) {
    if (d->easy) curl_easy_cleanup(d->easy);
    curl_slist_free_all(d->headers);
    curl_slist_free_all(d->rcpt);
    curl_slist_free_all(d->resolve);
    bp_buf_free(&d->body);
    free(d->hospitals);
    free(d->vi);
    free(d->en);
    free(d->data);
    explicit_bzero(&d->sub, sizeof d->sub);
    free(d);
}

static void unlink_delivery(struct bp_notifier *n, delivery_t *d) {
    if (d->prev)
        d->prev->next = d->next;
    else
        n->active = d->next;
    if (d->next) d->next->prev = d->prev;
    d->prev = d->next = NULL;
    n->inflight--;
}

static void on_finished(bp_redis_t *redis, redisReply *reply, void *privdata) {
    (void)redis;
    (void)reply;
    (void)privdata;
}

/* The URL shown in a dead letter: no query (it may carry a key). */
static void shown_target(const delivery_t *d, char *out, size_t len) {
    if (d->sub.channel == BP_CH_EMAIL) {
        snprintf(out, len, "%s", d->sub.address);
        return;
    }
    size_t q = strcspn(d->sub.url, "?");
    snprintf(out, len, "%.*s", (int)q, d->sub.url);
}

/* The end of an attempt: delivered, again later, or a dead letter. */
static void finish(delivery_t *d, bp_outcome_t outcome, const char *error) {
    struct bp_notifier *n = d->n;
    int64_t now = bp_time_now_ms();
    int64_t next = -1;
    if (outcome == BP_OUTCOME_RETRY) {
        uint32_t rnd = 0;
        RAND_bytes((unsigned char *)&rnd, sizeof rnd);
        next = bp_retry_next(&n->retry, d->attempts, d->first_ms, now, rnd);
        if (next < 0) outcome = BP_OUTCOME_PERMANENT;
    }
    const char *how = outcome == BP_OUTCOME_OK      ? "ok"
                      : outcome == BP_OUTCOME_RETRY ? "retry"
                                                    : "dead";
    bp_buf_t dead;
    bp_buf_init(&dead, 0, 16u << 10);
    if (outcome == BP_OUTCOME_PERMANENT) {
        char target[BP_URL_MAX + 1];
        shown_target(d, target, sizeof target);
        bp_jw_t w;
        bp_jw_init(&w, &dead);
        bp_jw_obj(&w);
        BP_JW_KEY(&w, "job");
        bp_jw_cstr(&w, d->job);
        BP_JW_KEY(&w, "event");
        bp_jw_cstr(&w, d->ev_id);
        BP_JW_KEY(&w, "type");
        bp_jw_cstr(&w, d->type);
        BP_JW_KEY(&w, "subscription");
        bp_jw_cstr(&w, d->sub.id);
        BP_JW_KEY(&w, "owner");
        bp_jw_cstr(&w, d->sub.owner);
        BP_JW_KEY(&w, "channel");
        bp_jw_cstr(&w, d->sub.channel == BP_CH_EMAIL ? "email" : "webhook");
        BP_JW_KEY(&w, "target");
        bp_jw_cstr(&w, target);
        BP_JW_KEY(&w, "attempts");
        bp_jw_int(&w, d->attempts);
        BP_JW_KEY(&w, "first");
        bp_jw_int(&w, d->first_ms);
        BP_JW_KEY(&w, "last");
        bp_jw_int(&w, now);
        BP_JW_KEY(&w, "error");
        bp_jw_cstr(&w, error ? error : "");
        bp_jw_end(&w);
    }
    if (outcome == BP_OUTCOME_OK)
        n->delivered++;
    else if (outcome == BP_OUTCOME_RETRY)
        n->retried++;
    else
        n->dead++;
    if (outcome != BP_OUTCOME_OK)
        bp_info("notify: %s of %s to subscription %s (attempt %d): %s", d->type, d->ev_id,
                d->sub.id, d->attempts,
                outcome == BP_OUTCOME_RETRY ? error : "given up, kept as a dead letter");
    if (!n->closing) {
        bp_rargs_t g = {0};
        const char *keys[] = {n->keys[K_DUE], n->keys[K_DEAD]};
        bp_rargs_eval(&g, bp_notify_finish_lua, 2, keys);
        bp_rargs_add(&g, n->prefix);
        bp_rargs_add(&g, d->job);
        bp_rargs_add(&g, how);
        bp_rargs_addf(&g, "%lld", (long long)next);
        bp_rargs_put(&g, dead.len ? bp_buf_data(&dead) : "", dead.len);
        bp_rargs_addf(&g, "%d", DEAD_MAX);
        bp_rargs_add(&g, error ? error : "");
        if (bp_rargs_send(&g, n->redis, on_finished, NULL))
            bp_warn(
                "notify: the end of job %s could not be recorded; it is retried after its lease",
                d->job);
    }
    bp_buf_free(&dead);
    unlink_delivery(n, d);
    delivery_free(d);
}

static size_t discard(char *p, size_t size, size_t nmemb, void *userdata) {
    delivery_t *d = userdata;
    (void)p;
    d->received += size * nmemb;
    return d->received > RESPONSE_MAX ? 0 : size * nmemb; /* 0 ends an endless answer */
}

static size_t read_mail(char *out, size_t size, size_t nitems, void *userdata) {
    delivery_t *d = userdata;
    size_t want = size * nitems, left = d->body.len - d->sent;
    size_t k = left < want ? left : want;
    memcpy(out, bp_buf_data(&d->body) + d->sent, k);
    d->sent += k;
    return k;
}

static void on_transfer(CURL *easy, CURLcode rc, void *data) {
    delivery_t *d = data;
    long code = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
    if (rc == CURLE_ABORTED_BY_CALLBACK && d->n->closing) {
        unlink_delivery(d->n, d); /* its lease runs out; another server retries it */
        delivery_free(d);
        return;
    }
    bp_outcome_t out;
    if (d->sub.channel == BP_CH_EMAIL) {
        out = rc == CURLE_OK ? BP_OUTCOME_OK : bp_smtp_outcome(code);
        if (rc == CURLE_OK)
            d->error[0] = '\0';
        else
            snprintf(d->error, sizeof d->error, "SMTP %ld: %s", code, curl_easy_strerror(rc));
    } else {
        out = rc == CURLE_OK ? bp_http_outcome(code) : BP_OUTCOME_RETRY;
        if (rc != CURLE_OK)
            snprintf(d->error, sizeof d->error, "%s", curl_easy_strerror(rc));
        else
            snprintf(d->error, sizeof d->error, "HTTP %ld", code);
    }
    finish(d, out, d->error);
}

static const char *text_vi(const delivery_t *d) {
    return d->vi ? d->vi : "";
}

/* Builds the easy handle for the address checked, and starts it. */
static void start_transfer(delivery_t *d, const char *addr, int family) {
    struct bp_notifier *n = d->n;
    const bp_settings_t *s = n->s;
    bp_event_t ev = {d->ev_id,     (bp_event_type_t)bp_event_type_parse(d->type, strlen(d->type)),
                     d->level,     d->at_ms,
                     d->hospitals, text_vi(d),
                     d->en,        d->data,
                     d->data_len};
    CURL *e = d->easy = curl_easy_init();
    if (!e) {
        finish(d, BP_OUTCOME_RETRY, "out of memory");
        return;
    }
    char pin[BP_URL_HOST_MAX + 80];
    snprintf(pin, sizeof pin, family == AF_INET6 ? "%s:%d:[%s]" : "%s:%d:%s", d->host, d->port,
             addr);
    d->resolve = curl_slist_append(NULL, pin);
    curl_easy_setopt(e, CURLOPT_RESOLVE, d->resolve);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)s->notify_timeout_s * 1000L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)s->notify_timeout_s * 1000L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, d);
    if (d->sub.channel == BP_CH_WEBHOOK) {
        bp_webhook_body(&d->body, &ev, d->sub.id, d->sub.lang);
        char sig[BP_SIGNATURE_LEN + 1], h[256];
        bp_webhook_sign(d->sub.secret, strlen(d->sub.secret), bp_buf_data(&d->body), d->body.len,
                        sig);
        struct curl_slist *l =
            curl_slist_append(NULL, "Content-Type: application/json; charset=utf-8");
        l = curl_slist_append(l, "Expect:");
        snprintf(h, sizeof h, "X-BedPulse-Event: %s", d->type);
        l = curl_slist_append(l, h);
        snprintf(h, sizeof h, "X-BedPulse-Event-Id: %s", d->ev_id);
        l = curl_slist_append(l, h);
        snprintf(h, sizeof h, "X-BedPulse-Delivery: %s", d->job);
        l = curl_slist_append(l, h);
        snprintf(h, sizeof h, "X-BedPulse-Attempt: %d", d->attempts);
        l = curl_slist_append(l, h);
        snprintf(h, sizeof h, "X-BedPulse-Signature: %s", sig);
        l = curl_slist_append(l, h);
        d->headers = l;
        curl_easy_setopt(e, CURLOPT_URL, d->sub.url);
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(e, CURLOPT_USERAGENT, USER_AGENT);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, d->headers);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, bp_buf_data(&d->body));
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)d->body.len);
    } else {
        bp_email_message(&d->body, &ev, s->smtp_from, d->sub.address, d->sub.id, d->sub.lang,
                         n->app->cfg.dispatch.utc_offset_min);
        char who[BP_SUB_EMAIL_MAX + 3];
        snprintf(who, sizeof who, "<%s>", d->sub.address);
        d->rcpt = curl_slist_append(NULL, who);
        char from[BP_SETTING_STR_MAX + 3];
        snprintf(from, sizeof from, "<%s>", s->smtp_from);
        curl_easy_setopt(e, CURLOPT_URL, s->smtp_url);
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
        curl_easy_setopt(e, CURLOPT_MAIL_FROM, from);
        curl_easy_setopt(e, CURLOPT_MAIL_RCPT, d->rcpt);
        curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(e, CURLOPT_READFUNCTION, read_mail);
        curl_easy_setopt(e, CURLOPT_READDATA, d);
        curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)d->body.len);
        curl_easy_setopt(e, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
        if (s->smtp_user[0]) {
            curl_easy_setopt(e, CURLOPT_USERNAME, s->smtp_user);
            curl_easy_setopt(e, CURLOPT_PASSWORD, s->smtp_password);
        }
    }
    if (d->body.failed || !d->resolve || (d->sub.channel == BP_CH_WEBHOOK && !d->headers) ||
        (d->sub.channel == BP_CH_EMAIL && !d->rcpt)) {
        finish(d, BP_OUTCOME_RETRY, "out of memory");
        return;
    }
    if (bp_curl_add(n->curl, e, on_transfer, d))
        finish(d, BP_OUTCOME_RETRY, "cannot start a transfer");
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
    delivery_t *d = req->data;
    d->resolving = false;
    if (status == UV_ECANCELED || d->n->closing) {
        uv_freeaddrinfo(res);
        unlink_delivery(d->n, d);
        delivery_free(d);
        return;
    }
    if (status < 0 || !res) {
        char err[400];
        snprintf(err, sizeof err, "cannot resolve %s: %s", d->host, uv_strerror(status));
        uv_freeaddrinfo(res);
        finish(d, BP_OUTCOME_RETRY, err);
        return;
    }
    /* a webhook: every address the name has must be allowed (a name with
     * one public and one private address must not be a way in) */
    char first[INET6_ADDRSTRLEN] = "", text[INET6_ADDRSTRLEN];
    int family = 0;
    bool allow = d->n->s->notify_allow_private_targets != 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        bp_addr_class_t c;
        if (ai->ai_family == AF_INET) {
            const struct sockaddr_in *sa = (const void *)ai->ai_addr;
            c = bp_addr_classify4((const uint8_t *)&sa->sin_addr);
            inet_ntop(AF_INET, &sa->sin_addr, text, sizeof text);
        } else if (ai->ai_family == AF_INET6) {
            const struct sockaddr_in6 *sa = (const void *)ai->ai_addr;
            c = bp_addr_classify6((const uint8_t *)&sa->sin6_addr);
            inet_ntop(AF_INET6, &sa->sin6_addr, text, sizeof text);
        } else {
            continue;
        }
        if (d->sub.channel == BP_CH_WEBHOOK && !bp_addr_allowed(c, allow)) {
            char err[600];
            snprintf(err, sizeof err,
                     "%s resolves to %s, a %s address: webhooks may not reach it "
                     "(notify.allow_private_targets)",
                     d->host, text, bp_addr_class_name(c));
            uv_freeaddrinfo(res);
            finish(d, BP_OUTCOME_PERMANENT, err);
            return;
        }
        if (!family) {
            snprintf(first, sizeof first, "%s", text);
            family = ai->ai_family;
        }
    }
    uv_freeaddrinfo(res);
    if (!family) {
        finish(d, BP_OUTCOME_RETRY, "the host has no IPv4 or IPv6 address");
        return;
    }
    start_transfer(d, first, family);
}

/* host and port of smtp[s]://host[:port][/...] */
static int smtp_target(const char *url, char *host, size_t hl, int *port) {
    bool tls = strncmp(url, "smtps://", 8) == 0;
    const char *p = url + (tls ? 8 : 7);
    size_t n = strcspn(p, ":/");
    if (n == 0 || n >= hl) return -1;
    memcpy(host, p, n);
    host[n] = '\0';
    *port = p[n] == ':' ? atoi(p + n + 1) : tls ? 465 : 25;
    return *port > 0 && *port < 65536 ? 0 : -1;
}

/* One claimed job: {job, fields, subscription json}. */
void bp_notify_deliver(struct bp_notifier *n, const redisReply *item) {
    if (item->type != REDIS_REPLY_ARRAY || item->elements != 3 ||
        item->element[0]->type != REDIS_REPLY_STRING ||
        item->element[2]->type != REDIS_REPLY_STRING)
        return;
    const redisReply *f = item->element[1];
    delivery_t *d = calloc(1, sizeof *d);
    if (!d) return;
    d->n = n;
    d->next = n->active;
    if (n->active) n->active->prev = d;
    n->active = d;
    n->inflight++;
    bp_buf_init(&d->body, 0, 1u << 20);
    snprintf(d->job, sizeof d->job, "%s", item->element[0]->str);
    snprintf(d->ev_id, sizeof d->ev_id, "%s", bp_notify_field(f, "ev", NULL));
    snprintf(d->type, sizeof d->type, "%s", bp_notify_field(f, "type", NULL));
    d->level = atoi(bp_notify_field(f, "level", NULL));
    d->attempts = atoi(bp_notify_field(f, "attempts", NULL));
    d->at_ms = strtoll(bp_notify_field(f, "at", NULL), NULL, 10);
    d->first_ms = strtoll(bp_notify_field(f, "first", NULL), NULL, 10);
    size_t dl;
    const char *data = bp_notify_field(f, "data", &dl);
    d->hospitals = strdup(bp_notify_field(f, "hospitals", NULL));
    d->vi = strdup(bp_notify_field(f, "vi", NULL));
    d->en = strdup(bp_notify_field(f, "en", NULL));
    d->data = malloc(dl + 1);
    if (d->data) {
        memcpy(d->data, data, dl);
        d->data[dl] = '\0';
        d->data_len = dl;
    }
    bp_errors_t errs;
    if (!d->hospitals || !d->vi || !d->en || !d->data) {
        finish(d, BP_OUTCOME_RETRY, "out of memory");
        return;
    }
    if (bp_sub_parse(item->element[2]->str, item->element[2]->len, &n->app->cfg.registry, true,
                     &d->sub, &errs)) {
        finish(d, BP_OUTCOME_PERMANENT, "the subscription in Redis is malformed");
        return;
    }
    if (d->sub.channel == BP_CH_EMAIL) {
        if (!n->s->smtp_url[0]) {
            finish(d, BP_OUTCOME_PERMANENT, "e-mail is not configured on this server (smtp.url)");
            return;
        }
        if (smtp_target(n->s->smtp_url, d->host, sizeof d->host, &d->port)) {
            finish(d, BP_OUTCOME_PERMANENT, "smtp.url has no usable host and port");
            return;
        }
    } else {
        bp_url_t u;
        bp_error_t err;
        if (bp_url_parse(d->sub.url, strlen(d->sub.url), &u, "url", &err)) {
            finish(d, BP_OUTCOME_PERMANENT, err.message);
            return;
        }
        snprintf(d->host, sizeof d->host, "%s", u.host);
        d->port = u.port;
    }
    /* the address is looked up (and, for a webhook, checked) each time */
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    d->gai.data = d;
    if (uv_getaddrinfo(&n->app->loop, &d->gai, on_resolved, d->host, NULL, &hints)) {
        finish(d, BP_OUTCOME_RETRY, "cannot look up the host");
        return;
    }
    d->resolving = true;
}

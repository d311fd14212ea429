/* Subscriptions, fan-out and delivery of notifications (see notifier.h). */
#include "notifier.h"
#include "notifier_int.h"
#include "bp_httputil.h"
#include "bp_jw.h"
#include "bp_keys.h"
#include "bp_log.h"
#include "bp_notify_rules.h"
#include "bp_rargs.h"
#include "bp_redis.h"
#include "bp_substore.h"
#include "bp_subs.h"
#include "bp_time.h"
#include "curl_uv.h"

#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <netdb.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TICK_MS        250
#define FANOUT_BATCH   "50"
#define AUTOCLAIM_MS   10000
#define AUTOCLAIM_IDLE "30000" /* an event read but not fanned out for this long: take it over */
#define SUBS_POLL_MS   1000
#define DEAD_MAX       1000        /* dead letters kept */
#define RESPONSE_MAX   (64u << 10) /* a receiver's answer is read and dropped, up to this */
#define GROUP          "fanout"
#define USER_AGENT     "BedPulse-Notifications/1"

/* -- state ------------------------------------------------------------------------------------- */

struct delivery {
    struct bp_notifier *n;
    delivery_t *prev, *next;
    char job[BP_EVENT_ID_MAX + BP_SUB_ID_MAX + 2];
    bp_sub_t sub;
    /* the event, copied from the job */
    char ev_id[BP_EVENT_ID_MAX + 1], type[24];
    int level, attempts;
    int64_t at_ms, first_ms;
    char *hospitals, *vi, *en, *data;
    size_t data_len;
    /* the attempt */
    bp_buf_t body;
    size_t sent;
    size_t received;
    char host[BP_URL_HOST_MAX + 1];
    int port;
    CURL *easy;
    struct curl_slist *headers, *rcpt, *resolve;
    uv_getaddrinfo_t gai;
    bool resolving;
    char error[700];
};

/* -- small helpers -------------------------------------------------------------------------------
 */

static const char *field(const redisReply *h, const char *name, size_t *len) {
    for (size_t i = 0; h && h->type == REDIS_REPLY_ARRAY && i + 1 < h->elements; i += 2)
        if (h->element[i]->type == REDIS_REPLY_STRING && strcmp(h->element[i]->str, name) == 0 &&
            h->element[i + 1]->type == REDIS_REPLY_STRING) {
            if (len) *len = h->element[i + 1]->len;
            return h->element[i + 1]->str;
        }
    if (len) *len = 0;
    return "";
}

/* -- subscriptions, as every server holds them
 * ------------------------------------------------------ */

static void on_subs(bp_redis_t *redis, redisReply *reply, void *privdata) {
    struct bp_notifier *n = privdata;
    (void)redis;
    n->subs_busy = false;
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) return;
    const redisReply *ver = reply->element[0], *all = reply->element[1];
    uint64_t v = ver->type == REDIS_REPLY_STRING ? strtoull(ver->str, NULL, 10) : 0;
    if (all->type != REDIS_REPLY_ARRAY) return;
    size_t cap = all->elements / 2;
    bp_sub_t *subs = cap ? calloc(cap, sizeof *subs) : NULL;
    if (cap && !subs) return;
    size_t k = 0;
    for (size_t i = 0; i + 1 < all->elements && k < cap; i += 2) {
        const redisReply *val = all->element[i + 1];
        bp_errors_t errs;
        if (val->type != REDIS_REPLY_STRING) continue;
        if (bp_sub_parse(val->str, val->len, &n->app->cfg.registry, true, &subs[k], &errs) == 0)
            k++;
        else
            bp_warn("notify: subscription %s in Redis is malformed (%s); ignored",
                    all->element[i]->str, errs.n ? errs.e[0].message : "?");
    }
    if (n->subs) explicit_bzero(n->subs, n->n_subs * sizeof *n->subs);
    free(n->subs);
    n->subs = subs;
    n->n_subs = k;
    n->subs_ver = v;
    n->subs_loaded = true;
    n->subs_stale = false;
}

static void on_subs_ver(bp_redis_t *redis, redisReply *reply, void *privdata) {
    struct bp_notifier *n = privdata;
    (void)redis;
    n->subs_busy = false;
    if (!reply || (reply->type != REDIS_REPLY_STRING && reply->type != REDIS_REPLY_NIL)) return;
    uint64_t v = reply->type == REDIS_REPLY_STRING ? strtoull(reply->str, NULL, 10) : 0;
    if (n->subs_loaded && v == n->subs_ver) {
        /* (a fan-out found the table stale and a reload caught up meanwhile) */
        n->subs_stale = false;
        return;
    }
    /* the version and the table in one step, so they agree */
    bp_rargs_t g = {0};
    const char *keys[] = {n->keys[K_VER], n->keys[K_SUBS]};
    bp_rargs_eval(&g, "return {redis.call('GET', KEYS[1]) or '0', redis.call('HGETALL', KEYS[2])}",
                  2, keys);
    if (bp_rargs_send(&g, n->redis, on_subs, n) == 0) n->subs_busy = true;
}

/* -- fan-out
 * ---------------------------------------------------------------------------------------- */

static bool may_see(const struct bp_notifier *n, const bp_sub_t *s, const char *type,
                    const char *data, int64_t now) {
    const bp_principal_t *p = bp_tokens_by_id(n->app->tokens, s->owner);
    if (!p || p->role == BP_ROLE_PUBLIC || p->role == BP_ROLE_FEED) return false;
    /* the alerts about 115 incidents are for those who may see incidents */
    bool incident = strncmp(type, "alert.", 6) == 0 && strstr(data, "\"rule\":\"unassigned\"");
    return bp_auth_allows(p, -1, incident ? BP_ACT_READ_AMBULANCES : BP_ACT_READ_HOSPITALS, -1,
                          now);
}

static void on_enqueued(bp_redis_t *redis, redisReply *reply, void *privdata) {
    struct bp_notifier *n = privdata;
    (void)redis;
    n->reading = false;
    if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
        reply->element[0]->integer < 0) {
        /* the subscriptions changed: read them, then these events again */
        n->subs_polled = 0;
        n->read_own = true;
        n->subs_stale = true;
    } else if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2) {
        n->jobs += (uint64_t)reply->element[0]->integer;
        n->refused += (uint64_t)reply->element[1]->integer;
    } else if (reply && reply->type == REDIS_REPLY_ERROR) {
        bp_error("notify: fan-out refused: %s", reply->str);
    }
}

/* Entries of XREADGROUP / XAUTOCLAIM: [[id, [field, value, ...]], ...] */
static void fan_out(struct bp_notifier *n, const redisReply *entries) {
    const bp_registry_t *reg = &n->app->cfg.registry;
    int64_t now = bp_time_now_ms();
    bp_rargs_t g = {0};
    const char *keys[] = {n->keys[K_EVENTS], n->keys[K_DUE], n->keys[K_DEAD], n->keys[K_VER]};
    bp_rargs_eval(&g, bp_notify_enqueue_lua, 4, keys);
    bp_rargs_add(&g, n->prefix);
    bp_rargs_add(&g, GROUP);
    bp_rargs_addf(&g, "%lld", (long long)now);
    bp_rargs_addf(&g, "%d", n->s->notify_queue_max);
    bp_rargs_addf(&g, "%d", DEAD_MAX);
    bp_rargs_addf(&g, "%llu", (unsigned long long)n->subs_ver);
    int header = g.n;
    int *hosp = calloc(reg->n_hospitals + 1, sizeof *hosp);
    if (!hosp) {
        bp_rargs_free(&g);
        n->reading = false;
        return;
    }
    for (size_t i = 0; i < entries->elements; i++) {
        const redisReply *e = entries->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
            e->element[0]->type != REDIS_REPLY_STRING)
            continue;
        const redisReply *f = e->element[1];
        const char *type = field(f, "type", NULL), *hl = field(f, "hospitals", NULL);
        size_t dl;
        const char *data = field(f, "data", &dl);
        int t = bp_event_type_parse(type, strlen(type));
        bp_event_match_t m = {(bp_event_type_t)(t < 0 ? 0 : t), atoi(field(f, "level", NULL)), hosp,
                              0};
        for (const char *p = hl; *p && m.n_hospitals < reg->n_hospitals;) {
            const char *comma = strchr(p, ',');
            size_t l = comma ? (size_t)(comma - p) : strlen(p);
            int h = bp_registry_hospital(reg, p, l);
            if (h >= 0) hosp[m.n_hospitals++] = h;
            p += l + (comma ? 1 : 0);
        }
        /* the event, then the subscriptions it goes to */
        bp_rargs_add(&g, e->element[0]->str);
        int count_at = g.n;
        bp_rargs_add(&g, "0");
        static const char *const copy[] = {"type", "level", "at", "hospitals", "vi", "en", "data"};
        for (int c = 0; c < 7; c++) {
            size_t l;
            const char *v = field(f, copy[c], &l);
            bp_rargs_put(&g, v, l);
        }
        int count = 0;
        for (size_t s = 0; t >= 0 && s < n->n_subs; s++) {
            const bp_sub_t *sub = &n->subs[s];
            bp_sub_verdict_t v =
                bp_sub_match(sub, reg, &m, now, n->app->cfg.dispatch.utc_offset_min);
            if (v == BP_SUB_QUIET) n->quiet++;
            if (v != BP_SUB_DELIVER || !may_see(n, sub, type, data, now)) continue;
            bp_rargs_add(&g, sub->id);
            count++;
        }
        if (!g.failed) {
            free(g.v[count_at]);
            char num[16];
            snprintf(num, sizeof num, "%d", count);
            g.v[count_at] = strdup(num);
            g.len[count_at] = strlen(num);
            if (!g.v[count_at]) g.failed = true;
        }
        n->fanned++;
    }
    free(hosp);
    if (g.n == header) {
        bp_rargs_free(&g);
        n->reading = false;
        return;
    }
    if (bp_rargs_send(&g, n->redis, on_enqueued, n)) n->reading = false;
}

static void on_events(bp_redis_t *redis, redisReply *reply, void *privdata) {
    struct bp_notifier *n = privdata;
    (void)redis;
    if (!reply || n->closing) {
        n->reading = false;
        return;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        if (strstr(reply->str, "NOGROUP")) n->group_ready = false; /* the stream was lost: again */
        n->reading = false;
        return;
    }
    /* XREADGROUP: [[stream, entries]] or nil; XAUTOCLAIM: [next, entries, deleted] */
    const redisReply *entries = NULL;
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements >= 1 &&
        reply->element[0]->type == REDIS_REPLY_ARRAY && reply->element[0]->elements == 2)
        entries = reply->element[0]->element[1];
    else if (reply->type == REDIS_REPLY_ARRAY && reply->elements >= 2 &&
             reply->element[0]->type == REDIS_REPLY_STRING)
        entries = reply->element[1];
    if (!entries || entries->type != REDIS_REPLY_ARRAY || entries->elements == 0 ||
        !n->subs_loaded) {
        if (n->read_kind == READ_OWN && entries && entries->type == REDIS_REPLY_ARRAY &&
            entries->elements == 0)
            n->read_own = false; /* nothing of ours left unfanned */
        n->reading = false;
        return;
    }
    fan_out(n, entries);
}

static void on_group(bp_redis_t *redis, redisReply *reply, void *privdata) {
    struct bp_notifier *n = privdata;
    (void)redis;
    n->group_busy = false;
    if (!reply) return;
    if (reply->type == REDIS_REPLY_STATUS ||
        (reply->type == REDIS_REPLY_ERROR && strstr(reply->str, "BUSYGROUP")))
        n->group_ready = true;
    else if (reply->type == REDIS_REPLY_ERROR)
        bp_error("notify: cannot create the consumer group: %s", reply->str);
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
static void deliver(struct bp_notifier *n, const redisReply *item) {
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
    snprintf(d->ev_id, sizeof d->ev_id, "%s", field(f, "ev", NULL));
    snprintf(d->type, sizeof d->type, "%s", field(f, "type", NULL));
    d->level = atoi(field(f, "level", NULL));
    d->attempts = atoi(field(f, "attempts", NULL));
    d->at_ms = strtoll(field(f, "at", NULL), NULL, 10);
    d->first_ms = strtoll(field(f, "first", NULL), NULL, 10);
    size_t dl;
    const char *data = field(f, "data", &dl);
    d->hospitals = strdup(field(f, "hospitals", NULL));
    d->vi = strdup(field(f, "vi", NULL));
    d->en = strdup(field(f, "en", NULL));
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

static void on_claimed(bp_redis_t *redis, redisReply *reply, void *privdata) {
    struct bp_notifier *n = privdata;
    (void)redis;
    n->claiming = false;
    if (!reply || n->closing) return;
    if (reply->type == REDIS_REPLY_ERROR) {
        bp_error("notify: claim refused: %s", reply->str);
        return;
    }
    if (reply->type != REDIS_REPLY_ARRAY) return;
    for (size_t i = 0; i < reply->elements; i++)
        deliver(n, reply->element[i]);
}

static void on_queue_len(bp_redis_t *redis, redisReply *reply, void *privdata) {
    struct bp_notifier *n = privdata;
    (void)redis;
    if (reply && reply->type == REDIS_REPLY_INTEGER) n->queue_len = reply->integer;
}

/* -- the timer
 * ---------------------------------------------------------------------------------------- */

static void on_tick(uv_timer_t *t) {
    struct bp_notifier *n = t->data;
    if (n->closing || !bp_redis_up(n->redis)) return;
    int64_t now = bp_time_now_ms();
    if (!n->subs_busy && now - n->subs_polled >= SUBS_POLL_MS) {
        n->subs_polled = now;
        if (bp_redis_command(n->redis, on_subs_ver, n, "GET %s", n->keys[K_VER]) == 0)
            n->subs_busy = true;
    }
    if (!n->group_ready) {
        if (!n->group_busy &&
            bp_redis_command(n->redis, on_group, n, "XGROUP CREATE %s " GROUP " 0 MKSTREAM",
                             n->keys[K_EVENTS]) == 0)
            n->group_busy = true;
        return;
    }
    /* fan-out: new events, and now and then those a dead server left */
    if (!n->reading && n->subs_loaded && !n->subs_stale) {
        int rc;
        if (!n->read_own && now - n->autoclaimed >= AUTOCLAIM_MS) {
            n->autoclaimed = now;
            n->read_kind = READ_CLAIM;
            rc = bp_redis_command(n->redis, on_events, n,
                                  "XAUTOCLAIM %s " GROUP " %s " AUTOCLAIM_IDLE
                                  " 0-0 COUNT " FANOUT_BATCH,
                                  n->keys[K_EVENTS], n->consumer);
        } else {
            /* ">": new events; "0": ours read before and not yet fanned out */
            n->read_kind = n->read_own ? READ_OWN : READ_NEW;
            rc = bp_redis_command(n->redis, on_events, n,
                                  "XREADGROUP GROUP " GROUP " %s COUNT " FANOUT_BATCH
                                  " STREAMS %s %s",
                                  n->consumer, n->keys[K_EVENTS], n->read_own ? "0" : ">");
        }
        if (rc == 0) n->reading = true;
    }
    /* delivery: claim what is due, within the deliveries in flight */
    size_t room = (size_t)n->s->notify_max_inflight > n->inflight
                      ? (size_t)n->s->notify_max_inflight - n->inflight
                      : 0;
    if (!n->claiming && room) {
        bp_rargs_t g = {0};
        const char *keys[] = {n->keys[K_DUE], n->keys[K_SUBS]};
        bp_rargs_eval(&g, bp_notify_claim_lua, 2, keys);
        bp_rargs_add(&g, n->prefix);
        bp_rargs_addf(&g, "%lld", (long long)now);
        bp_rargs_addf(&g, "%zu", room);
        /* a lease past the longest attempt (resolve + connect + transfer) */
        bp_rargs_addf(&g, "%lld", (long long)(3 * n->s->notify_timeout_s + 30) * 1000LL);
        bp_rargs_addf(&g, "%d", n->s->notify_rate_per_min);
        if (bp_rargs_send(&g, n->redis, on_claimed, n) == 0) n->claiming = true;
    }
    if (now - n->queue_checked >= 5000) {
        n->queue_checked = now;
        bp_redis_command(n->redis, on_queue_len, n, "ZCARD %s", n->keys[K_DUE]);
    }
}

static void on_up(bp_redis_t *r, void *data) {
    struct bp_notifier *n = data;
    (void)r;
    n->group_ready = false; /* the stream may be new: make sure of the group */
}

/* -- lifecycle
 * ------------------------------------------------------------------------------------------ */

struct bp_notifier *bp_notifier_create(bp_app_t *app) {
    struct bp_notifier *n = calloc(1, sizeof *n);
    if (!n) return NULL;
    n->app = app;
    n->s = &app->cfg.settings;
    snprintf(n->prefix, sizeof n->prefix, "%.64s", n->s->redis_prefix);
    static const char *const names[N_KEYS] = {"subs",          "subs:count", "subs:ver",
                                              "notify:events", "notify:due", "notify:dead"};
    for (int i = 0; i < N_KEYS; i++)
        snprintf(n->keys[i], sizeof n->keys[i], "%s%s", n->prefix, names[i]);
    unsigned char raw[6];
    if (RAND_bytes(raw, sizeof raw) != 1) memset(raw, 0, sizeof raw);
    snprintf(n->consumer, sizeof n->consumer, "server-%02x%02x%02x%02x%02x%02x", raw[0], raw[1],
             raw[2], raw[3], raw[4], raw[5]);
    bp_retry_defaults(&n->retry);
    n->retry.base_ms = n->s->notify_retry_base_ms;
    n->retry.max_age_ms = (int64_t)n->s->notify_retry_max_s * 1000;
    if (n->retry.cap_ms > n->retry.max_age_ms) n->retry.cap_ms = n->retry.max_age_ms;
    n->curl = bp_curl_create(&app->loop);
    bp_redis_opts_t o = bp_redis_opts(n->s, "notify");
    o.max_pending = 64;
    o.on_up = on_up;
    o.data = n;
    n->redis = n->curl ? bp_redis_create(&app->loop, &o) : NULL;
    if (!n->redis) {
        if (n->curl) bp_curl_close(n->curl, NULL, NULL);
        free(n);
        return NULL;
    }
    uv_timer_init(&app->loop, &n->timer);
    n->timer.data = n;
    uv_timer_start(&n->timer, on_tick, TICK_MS, TICK_MS);
    return n;
}

static void part_closed(void *data) {
    struct bp_notifier *n = data;
    if (--n->parts) return;
    void (*cb)(void *) = n->on_closed;
    void *cd = n->closed_data;
    if (n->subs) explicit_bzero(n->subs, n->n_subs * sizeof *n->subs);
    free(n->subs);
    free(n);
    if (cb) cb(cd);
}

void bp_notifier_close(struct bp_notifier *n, void (*on_closed)(void *), void *data) {
    if (!n) {
        if (on_closed) on_closed(data);
        return;
    }
    n->closing = true;
    n->on_closed = on_closed;
    n->closed_data = data;
    n->parts = 2;
    /* lookups still running end with UV_ECANCELED (or finish and see closing) */
    for (delivery_t *d = n->active; d; d = d->next)
        if (d->resolving) uv_cancel((uv_req_t *)&d->gai);
    bp_curl_close(n->curl, part_closed, n);
    n->curl = NULL;
    bp_redis_close_with(&n->timer, &n->redis, 1, part_closed, n);
}

void bp_notifier_metrics(const struct bp_notifier *n, bp_buf_t *o) {
    if (!n) return;
    bp_buf_printf(
        o,
        "# HELP bedpulse_notify_events_total Notification events this server fanned out.\n"
        "# TYPE bedpulse_notify_events_total counter\nbedpulse_notify_events_total %llu\n"
        "# HELP bedpulse_notify_jobs_total Deliveries queued by this server.\n"
        "# TYPE bedpulse_notify_jobs_total counter\nbedpulse_notify_jobs_total %llu\n"
        "# HELP bedpulse_notify_quiet_total Deliveries not made: quiet hours.\n"
        "# TYPE bedpulse_notify_quiet_total counter\nbedpulse_notify_quiet_total %llu\n"
        "# HELP bedpulse_notify_deliveries_total Delivery attempts by outcome.\n"
        "# TYPE bedpulse_notify_deliveries_total counter\n"
        "bedpulse_notify_deliveries_total{outcome=\"delivered\"} %llu\n"
        "bedpulse_notify_deliveries_total{outcome=\"retry\"} %llu\n"
        "bedpulse_notify_deliveries_total{outcome=\"dead\"} %llu\n"
        "bedpulse_notify_deliveries_total{outcome=\"queue_full\"} %llu\n"
        "# HELP bedpulse_notify_in_flight Deliveries in progress on this server.\n"
        "# TYPE bedpulse_notify_in_flight gauge\nbedpulse_notify_in_flight %zu\n"
        "# HELP bedpulse_notify_queue Deliveries waiting (all servers).\n"
        "# TYPE bedpulse_notify_queue gauge\nbedpulse_notify_queue %lld\n"
        "# HELP bedpulse_notify_subscriptions Subscriptions held.\n"
        "# TYPE bedpulse_notify_subscriptions gauge\nbedpulse_notify_subscriptions %zu\n",
        (unsigned long long)n->fanned, (unsigned long long)n->jobs, (unsigned long long)n->quiet,
        (unsigned long long)n->delivered, (unsigned long long)n->retried,
        (unsigned long long)n->dead, (unsigned long long)n->refused, n->inflight, n->queue_len,
        n->n_subs);
}

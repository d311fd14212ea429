/*
 * Notification subscriptions and dead letters (routes.c; issue 14,
 * docs/dispatch.md "Notifications"):
 *
 *   GET    /api/v1/subscriptions[?owner=]   one's own (an admin: anyone's)
 *   POST   /api/v1/subscriptions            a webhook or an e-mail address
 *   DELETE /api/v1/subscriptions/{id}
 *   GET    /api/v1/notify/dead-letters[?limit=]
 *
 * The Redis side is io/bp_substore.c; what every server holds of the
 * subscriptions is the notifier's (notifier_int.h).
 */
#include "bp_httputil.h"
#include "bp_jw.h"
#include "bp_keys.h"
#include "bp_log.h"
#include "bp_substore.h"
#include "bp_time.h"
#include "handlers.h"
#include "notifier_int.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEAD_PAGE_MAX 1000

/* The store's keys and who acts, for the audit row. */
static bp_substore_keys_t store_keys(const struct bp_notifier *n, bp_keys_t *keys) {
    bp_keys_init(keys, n->s->redis_prefix);
    return (bp_substore_keys_t){n->keys[K_SUBS], n->keys[K_COUNT], n->keys[K_VER], keys->audit};
}

static bp_substore_actor_t actor_of(const struct bp_notifier *n, const bp_req_t *r,
                                    const char *actor, const char *role, int64_t now) {
    return (bp_substore_actor_t){actor, role, r->addr, now,
                                 now - (int64_t)n->s->audit_retention_days * 86400000LL};
}

static bool may_subscribe(bp_req_t *r, const bp_principal_t **out) {
    const bp_principal_t *p = bp_req_principal(r);
    if (r->decided) return false;
    if (!p) {
        bp_req_error(r, 401, "unauthorized", "sign in to manage notifications");
        r->www_authenticate = true;
        return false;
    }
    if (!bp_auth_allows(p, -1, BP_ACT_READ_HOSPITALS, -1, bp_time_now_ms()) ||
        p->role == BP_ROLE_PUBLIC || p->role == BP_ROLE_FEED) {
        char msg[96];
        snprintf(msg, sizeof msg, "a %s token may not subscribe to notifications",
                 bp_role_name(p->role));
        bp_req_error(r, 403, "forbidden", msg);
        return false;
    }
    *out = p;
    return true;
}

static void write_sub_list(bp_buf_t *b, struct bp_notifier *n, const char *owner) {
    const bp_settings_t *s = n->s;
    bp_jw_t w;
    bp_jw_init(&w, b);
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "subscriptions");
    bp_jw_arr(&w);
    for (size_t i = 0; i < n->n_subs; i++) {
        if (owner && strcmp(n->subs[i].owner, owner)) continue;
        bp_jw_splice(&w);
        bp_sub_write(b, &n->subs[i], &n->app->cfg.registry, false);
    }
    bp_jw_end(&w);
    BP_JW_KEY(&w, "limits");
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "per_person");
    bp_jw_int(&w, s->notify_max_subscriptions_per_person);
    BP_JW_KEY(&w, "total");
    bp_jw_int(&w, s->notify_max_subscriptions);
    BP_JW_KEY(&w, "rate_per_min");
    bp_jw_int(&w, s->notify_rate_per_min);
    bp_jw_end(&w);
    BP_JW_KEY(&w, "email");
    bp_jw_bool(&w, s->smtp_url[0] != '\0');
    BP_JW_KEY(&w, "events");
    bp_jw_arr(&w);
    for (int t = 0; t < BP_EV__COUNT; t++)
        bp_jw_cstr(&w, bp_event_type_name((bp_event_type_t)t));
    bp_jw_end(&w);
    bp_jw_end(&w);
}

static void list_subs(bp_req_t *r, struct bp_notifier *n, const bp_principal_t *p) {
    char owner[BP_TOKEN_ID_MAX + 2];
    int k = bp_http_arg(r->query, r->query_len, "owner", owner, sizeof owner);
    if (k == -2 || (k >= 0 && (k == 0 || k > BP_TOKEN_ID_MAX))) {
        bp_req_error(r, 400, "bad_request", "owner must be a token id");
        return;
    }
    if (k >= 0 && p->role != BP_ROLE_ADMIN && strcmp(owner, p->id)) {
        bp_req_error(r, 403, "forbidden", "only an admin may see someone else's subscriptions");
        return;
    }
    if (!n->subs_loaded) {
        r->retry_after_s = 1;
        bp_req_error(r, 503, "unavailable", "subscriptions are not loaded yet; retry shortly");
        return;
    }
    const char *who = k >= 0 ? owner : p->role == BP_ROLE_ADMIN ? NULL : p->id;
    write_sub_list(&r->resp.body, n, who);
}

typedef struct {
    bp_req_t *r;
    struct bp_notifier *n;
    bp_sub_t sub;
    uv_getaddrinfo_t gai;
    char role[16], actor[BP_TOKEN_ID_MAX + 1];
} create_t;

static void create_free(create_t *c) {
    explicit_bzero(&c->sub, sizeof c->sub);
    free(c);
}

static void on_created(void *data, bool ok, long long result) {
    create_t *c = data;
    bp_req_t *r = c->r;
    struct bp_notifier *n = c->n;
    if (!ok) {
        r->retry_after_s = 2;
        bp_req_error(r, 503, "unavailable",
                     "storage did not answer; the subscription may not exist: reload");
    } else if (result == -1 || result == -2) {
        char msg[160];
        if (result == -1)
            snprintf(
                msg, sizeof msg,
                "a person may have at most %d subscriptions (notify.max_subscriptions_per_person)",
                n->s->notify_max_subscriptions_per_person);
        else
            snprintf(msg, sizeof msg,
                     "this deployment holds at most %d subscriptions (notify.max_subscriptions)",
                     n->s->notify_max_subscriptions);
        bp_req_error(r, 409, "too_many_subscriptions", msg);
    } else if (result != 1) {
        r->retry_after_s = 1;
        bp_req_error(r, 503, "unavailable", "the subscription id was taken; send it again");
    } else {
        /* this server shows it at once; the others within a second */
        if (n->subs_loaded) {
            bp_sub_t *more = realloc(n->subs, (n->n_subs + 1) * sizeof *more);
            if (more) {
                n->subs = more;
                n->subs[n->n_subs++] = c->sub;
            }
        }
        r->resp.status = 201;
        bp_buf_reset(&r->resp.body);
        bp_sub_write(&r->resp.body, &c->sub, &n->app->cfg.registry, false);
        bp_info("http %s: subscription %s made by %s (%s)", r->addr, c->sub.id, c->actor,
                c->sub.channel == BP_CH_EMAIL ? "email" : "webhook");
    }
    bp_req_done(r);
    create_free(c);
}

static void store(create_t *c) {
    bp_req_t *r = c->r;
    struct bp_notifier *n = c->n;
    int64_t now = bp_time_now_ms();
    bp_buf_t stored, shown;
    bp_buf_init(&stored, 0, 64u << 10);
    bp_buf_init(&shown, 0, 64u << 10);
    bp_sub_write(&stored, &c->sub, &n->app->cfg.registry, true);
    bp_sub_write(&shown, &c->sub, &n->app->cfg.registry, false);
    bp_keys_t keys;
    bp_substore_keys_t k = store_keys(n, &keys);
    bp_substore_actor_t who = actor_of(n, r, c->actor, c->role, now);
    bool failed = stored.failed || shown.failed ||
                  bp_substore_create(n->redis, &k, c->sub.id, c->sub.owner, bp_buf_data(&stored),
                                     stored.len, bp_buf_data(&shown), shown.len,
                                     n->s->notify_max_subscriptions_per_person,
                                     n->s->notify_max_subscriptions, &who, on_created, c);
    if (stored.base) explicit_bzero(stored.base, stored.cap + stored.headroom);
    bp_buf_free(&stored);
    bp_buf_free(&shown);
    if (failed) {
        r->retry_after_s = 2;
        bp_req_error(r, 503, "unavailable", "storage is unreachable; nothing was made");
        bp_req_done(r);
        create_free(c);
    }
}

static void url_refused(bp_req_t *r, const char *why) {
    bp_errors_t errs = {.n = 1};
    bp_error_set(&errs.e[0], "private_target", "url", "%s", why);
    bp_req_invalid(r, why, &errs);
}

static void on_create_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
    create_t *c = req->data;
    bp_req_t *r = c->r;
    if (status == UV_ECANCELED || c->n->closing) {
        uv_freeaddrinfo(res);
        r->retry_after_s = 2;
        bp_req_error(r, 503, "unavailable", "the server is stopping; send it again");
        bp_req_done(r);
        create_free(c);
        return;
    }
    bp_url_t u;
    bp_error_t e;
    bp_url_parse(c->sub.url, strlen(c->sub.url), &u, "url", &e);
    char msg[600];
    if (status < 0 || !res) {
        snprintf(msg, sizeof msg, "url: the host %s could not be found (%s)", u.host,
                 uv_strerror(status));
        uv_freeaddrinfo(res);
        bp_errors_t errs = {.n = 1};
        bp_error_set(&errs.e[0], "unknown_host", "url", "%s", msg);
        bp_req_invalid(r, msg, &errs);
        bp_req_done(r);
        create_free(c);
        return;
    }
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        char text[INET6_ADDRSTRLEN] = "";
        bp_addr_class_t k;
        if (ai->ai_family == AF_INET) {
            const struct sockaddr_in *sa = (const void *)ai->ai_addr;
            k = bp_addr_classify4((const uint8_t *)&sa->sin_addr);
            inet_ntop(AF_INET, &sa->sin_addr, text, sizeof text);
        } else if (ai->ai_family == AF_INET6) {
            const struct sockaddr_in6 *sa = (const void *)ai->ai_addr;
            k = bp_addr_classify6((const uint8_t *)&sa->sin6_addr);
            inet_ntop(AF_INET6, &sa->sin6_addr, text, sizeof text);
        } else {
            continue;
        }
        if (!bp_addr_allowed(k, c->n->s->notify_allow_private_targets != 0)) {
            snprintf(
                msg, sizeof msg,
                "url must not point at a loopback, private, link-local or reserved address: %s "
                "is %s (%s)",
                u.host, text, bp_addr_class_name(k));
            uv_freeaddrinfo(res);
            url_refused(r, msg);
            bp_req_done(r);
            create_free(c);
            return;
        }
    }
    uv_freeaddrinfo(res);
    store(c);
}

static void create_sub(bp_req_t *r, struct bp_notifier *n, const bp_principal_t *p) {
    const bp_registry_t *reg = &n->app->cfg.registry;
    if (!bp_req_is_json(r)) {
        bp_req_error(r, 415, "unsupported_media_type", "send the subscription as application/json");
        return;
    }
    create_t *c = calloc(1, sizeof *c);
    if (!c) {
        bp_req_error(r, 503, "unavailable", "out of memory");
        return;
    }
    c->r = r;
    c->n = n;
    snprintf(c->actor, sizeof c->actor, "%s", p->id);
    snprintf(c->role, sizeof c->role, "%s", bp_role_name(p->role));
    bp_errors_t errs;
    if (bp_sub_parse(bp_buf_data(&r->in), r->in.len, reg, false, &c->sub, &errs)) {
        bp_req_invalid(r, errs.n == 1 ? errs.e[0].message : "some fields are not valid; see errors",
                       &errs);
        create_free(c);
        return;
    }
    /* whose: one's own; an admin may name anyone who holds a token */
    if (c->sub.owner[0] && strcmp(c->sub.owner, p->id)) {
        if (p->role != BP_ROLE_ADMIN) {
            bp_req_error(r, 403, "forbidden",
                         "only an admin may make subscriptions for someone else");
            create_free(c);
            return;
        }
        if (!bp_tokens_by_id(n->app->tokens, c->sub.owner)) {
            errs.n = 1;
            bp_error_set(&errs.e[0], "unknown_owner", "owner",
                         "owner must be the id of an existing token");
            bp_req_invalid(r, errs.e[0].message, &errs);
            create_free(c);
            return;
        }
    } else {
        snprintf(c->sub.owner, sizeof c->sub.owner, "%s", p->id);
    }
    if (c->sub.channel == BP_CH_EMAIL && !n->s->smtp_url[0]) {
        errs.n = 1;
        bp_error_set(&errs.e[0], "not_configured", "channel",
                     "channel email is not available: this server has no smtp.url");
        bp_req_invalid(r, errs.e[0].message, &errs);
        create_free(c);
        return;
    }
    unsigned char raw[8];
    if (RAND_bytes(raw, sizeof raw) != 1) {
        bp_req_error(r, 503, "unavailable", "no randomness for an id; retry");
        create_free(c);
        return;
    }
    char hex[17];
    bp_hex(raw, sizeof raw, hex);
    snprintf(c->sub.id, sizeof c->sub.id, "s-%s", hex);
    c->sub.created_ms = bp_time_now_ms();
    r->pending = true;
    if (c->sub.channel == BP_CH_EMAIL) {
        store(c);
        return;
    }
    /* a webhook: the URL's host must not be a way into the internal network */
    bp_url_t u;
    bp_error_t e;
    bp_url_parse(c->sub.url, strlen(c->sub.url), &u, "url", &e);
    bool allow = n->s->notify_allow_private_targets != 0;
    if (u.host_is_ip) {
        int k = bp_addr_classify_text(u.host);
        if (k < 0 || !bp_addr_allowed((bp_addr_class_t)k, allow)) {
            char msg[600];
            snprintf(msg, sizeof msg,
                     "url must not point at a loopback, private, link-local or reserved address: "
                     "%s is %s",
                     u.host, k < 0 ? "not an address" : bp_addr_class_name((bp_addr_class_t)k));
            r->pending = false;
            url_refused(r, msg);
            create_free(c);
            return;
        }
        store(c);
        return;
    }
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    c->gai.data = c;
    if (uv_getaddrinfo(&n->app->loop, &c->gai, on_create_resolved, u.host, NULL, &hints)) {
        r->pending = false;
        bp_req_error(r, 503, "unavailable", "cannot look up the host now; retry");
        create_free(c);
    }
}

typedef struct {
    bp_req_t *r;
    struct bp_notifier *n;
    char id[BP_SUB_ID_MAX + 1];
} delete_t;

static void on_deleted(void *data, bool ok, long long result) {
    delete_t *x = data;
    bp_req_t *r = x->r;
    struct bp_notifier *n = x->n;
    if (!ok) {
        r->retry_after_s = 2;
        bp_req_error(r, 503, "unavailable", "storage did not answer; reload and retry");
    } else if (result == 0) {
        bp_req_error(r, 404, "unknown_subscription", "no subscription of yours with this id");
    } else {
        for (size_t i = 0; i < n->n_subs; i++) {
            if (strcmp(n->subs[i].id, x->id)) continue;
            explicit_bzero(&n->subs[i], sizeof n->subs[i]);
            n->subs[i] = n->subs[--n->n_subs];
            break;
        }
        bp_jw_t w;
        bp_jw_init(&w, &r->resp.body);
        bp_jw_obj(&w);
        BP_JW_KEY(&w, "deleted");
        bp_jw_cstr(&w, x->id);
        bp_jw_end(&w);
        bp_info("http %s: subscription %s ended", r->addr, x->id);
    }
    bp_req_done(r);
    free(x);
}

static void delete_sub(bp_req_t *r, struct bp_notifier *n, const bp_principal_t *p,
                       const char *id) {
    if (strlen(id) > BP_SUB_ID_MAX || strncmp(id, "s-", 2)) {
        bp_req_error(r, 404, "unknown_subscription", "no subscription of yours with this id");
        return;
    }
    delete_t *x = calloc(1, sizeof *x);
    if (!x) {
        bp_req_error(r, 503, "unavailable", "out of memory");
        return;
    }
    x->r = r;
    x->n = n;
    snprintf(x->id, sizeof x->id, "%s", id);
    int64_t now = bp_time_now_ms();
    bp_keys_t keys;
    bp_substore_keys_t k = store_keys(n, &keys);
    bp_substore_actor_t who = actor_of(n, r, p->id, bp_role_name(p->role), now);
    if (bp_substore_delete(n->redis, &k, id, p->role == BP_ROLE_ADMIN, &who, on_deleted, x)) {
        free(x);
        r->retry_after_s = 2;
        bp_req_error(r, 503, "unavailable", "storage is unreachable; nothing was changed");
        return;
    }
    r->pending = true;
}

static void on_dead(void *data, bool ok, long long total, const bp_dead_letter_t *items, size_t n) {
    bp_req_t *r = data;
    if (!ok) {
        r->retry_after_s = 2;
        bp_req_error(r, 503, "unavailable", "the dead letters cannot be read now; retry");
        bp_req_done(r);
        return;
    }
    bp_jw_t w;
    bp_jw_init(&w, &r->resp.body);
    bp_jw_obj(&w);
    BP_JW_KEY(&w, "total");
    bp_jw_int(&w, total);
    BP_JW_KEY(&w, "dead_letters");
    bp_jw_arr(&w);
    for (size_t i = 0; i < n; i++) /* written by the notifier: JSON objects */
        bp_jw_raw(&w, items[i].json, items[i].len);
    bp_jw_end(&w);
    bp_jw_end(&w);
    bp_req_done(r);
}

void bp_api_dead_letters_get(bp_req_t *r) {
    struct bp_notifier *n = r->app->notifier;
    char lim[16];
    long limit = 100;
    int k = bp_http_arg(r->query, r->query_len, "limit", lim, sizeof lim);
    if (k >= 0) {
        char *e;
        limit = strtol(lim, &e, 10);
        if (k == 0 || *e || limit < 1 || limit > DEAD_PAGE_MAX) {
            bp_req_error(r, 400, "bad_request", "limit must be an integer from 1 to 1000");
            return;
        }
    } else if (k == -2) {
        bp_req_error(r, 400, "bad_request", "limit must be an integer from 1 to 1000");
        return;
    }
    if (bp_substore_dead_letters(n->redis, n->keys[K_DEAD], limit, on_dead, r)) {
        r->retry_after_s = 2;
        bp_req_error(r, 503, "unavailable", "the dead letters cannot be read now; retry");
        return;
    }
    r->pending = true;
}

/* Notifications must be running: 503 before them. */
bool bp_api_notifier_ready(bp_req_t *r) {
    if (!r->app->notifier) {
        r->retry_after_s = 2;
        bp_req_error(r, 503, "unavailable", "notifications are not running");
        return false;
    }
    return true;
}

void bp_api_subscriptions_get(bp_req_t *r) {
    const bp_principal_t *p = NULL;
    if (may_subscribe(r, &p)) list_subs(r, r->app->notifier, p);
}

void bp_api_subscriptions_post(bp_req_t *r) {
    const bp_principal_t *p = NULL;
    if (may_subscribe(r, &p)) create_sub(r, r->app->notifier, p);
}

void bp_api_subscription_delete(bp_req_t *r) {
    const bp_principal_t *p = NULL;
    if (may_subscribe(r, &p))
        delete_sub(r, r->app->notifier, p, r->path + strlen("/api/v1/subscriptions/"));
}

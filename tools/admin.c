/*
 * bp-admin: creates, lists and revokes access tokens (DESIGN §8).
 *
 *   bp-admin [--settings FILE] token create --role ROLE [--hospitals ID,ID|*]
 *            [--fleet] [--name TEXT] [--expires-days N] [--json]
 *   bp-admin [--settings FILE] token list [--json]
 *   bp-admin [--settings FILE] token revoke ID
 *   bp-admin [--settings FILE] demo-tokens [--json] [--base-url URL]
 *
 * demo-tokens (for the run command's demo) makes one token per role, and
 * with --base-url prints a sign-in link for each view: the token rides in
 * the URL fragment, which browsers never send to a server or log.
 * A token is shown once, when it is created; Redis keeps only its SHA-256.
 * Every change bumps <prefix>auth:gen, so servers and collectors reload
 * their token tables within a second, and is written to the audit trail.
 * Layout: io/bp_tokens.h. Exit status: 0 done, 1 refused (bad input, named),
 * 2 usage, 3 Redis unreachable.
 */
#include "bp_auth.h"
#include "bp_buf.h"
#include "bp_jw.h"
#include "bp_config.h"
#include "bp_keys.h"
#include "bp_log.h"
#include "bp_redis.h"
#include "bp_time.h"

#include <hiredis/hiredis.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libwebsockets.h>
#include <openssl/rand.h>

static const char *prefix;
static redisContext *rc;
static int writes; /* commands that changed something */

static void usage(void) {
    fprintf(stderr,
            "usage: bp-admin [--settings FILE] token create --role ROLE [--hospitals ID,ID|*]\n"
            "                [--fleet] [--name TEXT] [--expires-days N] [--json]\n"
            "       bp-admin [--settings FILE] token list [--json]\n"
            "       bp-admin [--settings FILE] token revoke ID\n"
            "       bp-admin [--settings FILE] demo-tokens [--json] [--base-url URL]\n"
            "roles: wall, dispatcher, manager (needs --hospitals), admin, feed (needs --hospitals\n"
            "and/or --fleet), public\n");
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bp-admin: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    return 1;
}

static redisReply *cmd(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static redisReply *cmd(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(rc, fmt, ap);
    va_end(ap);
    if (!r) {
        fprintf(stderr, "bp-admin: Redis: %s\n", rc->errstr);
        exit(3);
    }
    if (r->type == REDIS_REPLY_ERROR) {
        fprintf(stderr, "bp-admin: Redis: %s\n", r->str);
        exit(3);
    }
    return r;
}

static void random_bytes(unsigned char *b, size_t n) {
    if (RAND_bytes(b, (int)n) != 1) {
        fprintf(stderr, "bp-admin: no random bytes available\n");
        exit(3);
    }
}

/* "bp_" + base64url of 32 random bytes, without padding (43 characters) */
static void token_format(const unsigned char raw[32], char out[BP_TOKEN_LEN + 1]) {
    char b64[64];
    int n = lws_b64_encode_string_url((const char *)raw, 32, b64, sizeof b64);
    while (n > 0 && b64[n - 1] == '=')
        n--;
    snprintf(out, BP_TOKEN_LEN + 1, "bp_%.*s", n, b64);
}

static void audit(const char *what, const char *id, const char *detail) {
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long)bp_time_now_ms());
    freeReplyObject(cmd("XADD %saudit * t %s actor %s role admin addr local kind token id %s "
                        "action %s after %s",
                        prefix, now, "bp-admin", id, what, detail));
}

/* With redis.min_replicas_ack, a change is confirmed on that many replicas
 * (WAIT) before bp-admin says it is done; if they do not confirm in time
 * the change is made on the master, but a failover could lose it: say so. */
static void confirm_replicated(const bp_settings_t *s) {
    if (s->redis_min_replicas_ack <= 0) return;
    redisReply *r = cmd("WAIT %d %d", s->redis_min_replicas_ack, s->redis_replica_ack_timeout_ms);
    long long n = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
    freeReplyObject(r);
    if (n < s->redis_min_replicas_ack)
        fprintf(stderr,
                "bp-admin: warning: only %lld of %d replicas confirmed the change within %d ms "
                "(redis.min_replicas_ack): it is on the master, a failover now could lose it\n",
                n, s->redis_min_replicas_ack, s->redis_replica_ack_timeout_ms);
}

/* Checks "id,id,..." against the registry; "*" is every hospital. */
static int check_hospitals(const bp_registry_t *reg, const char *list) {
    if (strcmp(list, "*") == 0) return 0;
    if (!*list) return fail("--hospitals is empty");
    for (const char *p = list; *p;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (bp_registry_hospital(reg, p, n) < 0) {
            char id[64];
            snprintf(id, sizeof id, "%.*s", (int)(n < 60 ? n : 60), p);
            return fail("--hospitals: unknown hospital \"%s\"", id);
        }
        p += n + (comma ? 1 : 0);
    }
    return 0;
}

typedef struct {
    char id[BP_TOKEN_ID_MAX + 1];
    char token[BP_TOKEN_LEN + 1];
} created_t;

static int create(const bp_registry_t *reg, const char *role, const char *hospitals, int fleet,
                  const char *name, long expires_days, created_t *out) {
    int r = bp_role_parse(role, strlen(role));
    if (r < 0)
        return fail("--role: unknown role \"%s\" (wall, dispatcher, manager, admin, feed, public)",
                    role);
    if (r == BP_ROLE_MANAGER && !hospitals) return fail("--role manager needs --hospitals");
    if (r == BP_ROLE_FEED && !hospitals && !fleet)
        return fail("--role feed needs --hospitals and/or --fleet");
    if (hospitals && check_hospitals(reg, hospitals)) return 1;
    if (!bp_is_clean_text(name, strlen(name), BP_TOKEN_NAME_MAX))
        return fail("--name must be at most 80 bytes of text without control characters");
    if (expires_days < 0 || expires_days > 3650)
        return fail("--expires-days must be from 1 to 3650");
    unsigned char raw[32], idb[4];
    random_bytes(raw, sizeof raw);
    random_bytes(idb, sizeof idb);
    token_format(raw, out->token);
    if (!bp_token_well_formed(out->token, strlen(out->token))) return fail("bad token form");
    snprintf(out->id, sizeof out->id, "t-%02x%02x%02x%02x", idb[0], idb[1], idb[2], idb[3]);
    char hash[65], now[24], exp[24];
    bp_token_hash(out->token, strlen(out->token), hash);
    int64_t t = bp_time_now_ms();
    snprintf(now, sizeof now, "%lld", (long long)t);
    snprintf(exp, sizeof exp, "%lld",
             expires_days ? (long long)(t + (int64_t)expires_days * 86400 * 1000) : 0LL);
    freeReplyObject(cmd("HSET %stok:%s h %s role %s name %s hospitals %s fleet %s created %s "
                        "expires %s revoked 0",
                        prefix, out->id, hash, role, name, hospitals ? hospitals : "",
                        fleet ? "1" : "0", now, exp));
    freeReplyObject(cmd("SADD %stokens %s", prefix, out->id));
    freeReplyObject(cmd("INCR %sauth:gen", prefix));
    writes++;
    char detail[512];
    snprintf(detail, sizeof detail, "{\"role\":\"%s\",\"hospitals\":\"%.300s\",\"fleet\":%s}", role,
             hospitals ? hospitals : "", fleet ? "true" : "false");
    audit("create", out->id, detail);
    return 0;
}

static void print_created(const created_t *c, const char *role, const char *name, int json) {
    if (json) {
        printf("{\"id\":\"%s\",\"token\":\"%s\",\"role\":\"%s\"}\n", c->id, c->token, role);
    } else {
        printf("token %s (%s%s%s) created. It is shown this once; keep it secret:\n  %s\n", c->id,
               role, *name ? ", " : "", name, c->token);
    }
}

static int revoke_token(const char *id) {
    redisReply *r = cmd("SISMEMBER %stokens %s", prefix, id);
    long long member = r->integer;
    freeReplyObject(r);
    if (!member) return fail("no token with id \"%s\"", id);
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long)bp_time_now_ms());
    freeReplyObject(cmd("HSET %stok:%s revoked %s", prefix, id, now));
    freeReplyObject(cmd("INCR %sauth:gen", prefix));
    writes++;
    audit("revoke", id, "{}");
    return 0;
}

static const char *hget(const redisReply *h, const char *name) {
    for (size_t i = 0; i + 1 < h->elements; i += 2)
        if (strcmp(h->element[i]->str, name) == 0) return h->element[i + 1]->str;
    return "";
}

static int list(int json) {
    redisReply *ids = cmd("SMEMBERS %stokens", prefix);
    if (!json)
        printf("%-12s %-10s %-30s %-24s %-5s %-8s\n", "id", "role", "name", "hospitals", "fleet",
               "state");
    else
        printf("[");
    int64_t now = bp_time_now_ms();
    for (size_t i = 0; i < ids->elements; i++) {
        redisReply *h = cmd("HGETALL %stok:%s", prefix, ids->element[i]->str);
        long long revoked = strtoll(hget(h, "revoked"), NULL, 10);
        long long expires = strtoll(hget(h, "expires"), NULL, 10);
        const char *state = revoked ? "revoked" : expires && now >= expires ? "expired" : "active";
        if (json) {
            bp_buf_t b;
            bp_buf_init(&b, 0, 4096);
            bp_jw_t w; /* one element of the list printed around it */
            bp_jw_init_inside(&w, &b, i == 0);
            bp_jw_obj(&w);
            BP_JW_KEY(&w, "id");
            bp_jw_cstr(&w, ids->element[i]->str);
            BP_JW_KEY(&w, "role");
            bp_jw_cstr(&w, hget(h, "role"));
            BP_JW_KEY(&w, "name");
            bp_jw_cstr(&w, hget(h, "name"));
            BP_JW_KEY(&w, "hospitals");
            bp_jw_cstr(&w, hget(h, "hospitals"));
            BP_JW_KEY(&w, "fleet");
            bp_jw_bool(&w, strcmp(hget(h, "fleet"), "1") == 0);
            BP_JW_KEY(&w, "state");
            bp_jw_cstr(&w, state);
            bp_jw_end(&w);
            fwrite(bp_buf_data(&b), 1, b.len, stdout);
            bp_buf_free(&b);
        } else {
            printf("%-12s %-10s %-30.30s %-24.24s %-5s %-8s\n", ids->element[i]->str,
                   hget(h, "role"), hget(h, "name"), hget(h, "hospitals"), hget(h, "fleet"), state);
        }
        freeReplyObject(h);
    }
    if (json) printf("]\n");
    freeReplyObject(ids);
    return 0;
}

/* One token per role for the demo; the previous demo tokens are revoked. */
static int demo(const bp_registry_t *reg, int json, const char *base) {
    redisReply *ids = cmd("SMEMBERS %stokens", prefix);
    for (size_t i = 0; i < ids->elements; i++) {
        redisReply *h = cmd("HGETALL %stok:%s", prefix, ids->element[i]->str);
        if (strncmp(hget(h, "name"), "demo ", 5) == 0 && strcmp(hget(h, "revoked"), "0") == 0)
            revoke_token(ids->element[i]->str);
        freeReplyObject(h);
    }
    freeReplyObject(ids);
    static const struct {
        const char *role, *hospitals, *name;
        int fleet;
        const char *view;
    } demo_tokens[] = {
        {"dispatcher", NULL, "demo 115 dispatcher", 0, "/"},
        {"wall", NULL, "demo wall display", 0, "/wall"},
        {"manager", "bach-mai,viet-duc", "demo manager (Bach Mai, Viet Duc)", 0, "/manage"},
        {"admin", NULL, "demo administrator", 0, "/"},
    };
    if (json) printf("[");
    for (size_t i = 0; i < sizeof demo_tokens / sizeof *demo_tokens; i++) {
        created_t c;
        if (create(reg, demo_tokens[i].role, demo_tokens[i].hospitals, demo_tokens[i].fleet,
                   demo_tokens[i].name, 0, &c))
            return 1;
        if (json)
            printf("%s{\"id\":\"%s\",\"token\":\"%s\",\"role\":\"%s\"}", i ? "," : "", c.id,
                   c.token, demo_tokens[i].role);
        else if (base)
            printf("  %-11s %s/signin#token=%s&next=%s\n", demo_tokens[i].role, base, c.token,
                   demo_tokens[i].view);
        else
            printf("  %-11s %s   (%s)\n", demo_tokens[i].role, c.token, demo_tokens[i].name);
    }
    if (json) printf("]\n");
    return 0;
}

int main(int argc, char **argv) {
    static bp_config_t cfg;
    if (argc < 2) {
        usage();
        return 2;
    }
    bp_log_init("admin", BP_LOG_WARN, BP_LOG_TEXT);
    if (bp_program_start("admin", &cfg, argc, argv)) return 1;
    prefix = cfg.settings.redis_prefix;
    int i = 1;
    while (i < argc && (strcmp(argv[i], "--settings") == 0 || strcmp(argv[i], "-c") == 0))
        i += 2;
    if (i >= argc) {
        usage();
        return 2;
    }
    const char *what = argv[i++];
    const char *sub = strcmp(what, "token") == 0 && i < argc ? argv[i++] : NULL;
    const char *role = NULL, *hospitals = NULL, *name = "", *id = NULL, *base = NULL;
    int fleet = 0, json = 0;
    long expires = 0;
    for (; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--role") == 0 && v)
            role = argv[++i];
        else if (strcmp(a, "--hospitals") == 0 && v)
            hospitals = argv[++i];
        else if (strcmp(a, "--name") == 0 && v)
            name = argv[++i];
        else if (strcmp(a, "--expires-days") == 0 && v)
            expires = strtol(argv[++i], NULL, 10);
        else if (strcmp(a, "--base-url") == 0 && v)
            base = argv[++i];
        else if (strcmp(a, "--fleet") == 0)
            fleet = 1;
        else if (strcmp(a, "--json") == 0)
            json = 1;
        else if (a[0] != '-' && !id)
            id = a;
        else {
            usage();
            return 2;
        }
    }
    char why[600];
    rc = bp_redis_connect_sync(&cfg.settings, why, sizeof why);
    if (!rc) {
        fprintf(stderr, "bp-admin: Redis: %s\n", why);
        return 3;
    }
    int rv = 2;
    if (sub && strcmp(sub, "create") == 0 && role) {
        created_t c;
        rv = create(&cfg.registry, role, hospitals, fleet, name, expires, &c);
        if (!rv) print_created(&c, role, name, json);
    } else if (sub && strcmp(sub, "list") == 0) {
        rv = list(json);
    } else if (sub && strcmp(sub, "revoke") == 0 && id) {
        rv = revoke_token(id);
        if (!rv) printf("token %s revoked\n", id);
    } else if (strcmp(what, "demo-tokens") == 0) {
        rv = demo(&cfg.registry, json, base);
    } else {
        usage();
    }
    if (rv == 0 && writes) confirm_replicated(&cfg.settings);
    redisFree(rc);
    bp_config_free(&cfg);
    return rv;
}

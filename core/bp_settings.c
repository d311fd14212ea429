/* The settings table and its text parsers. */
#include "bp_settings.h"
#include "bp_sentinel.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum {
    T_INT,
    T_STR,
    T_PCT,
    T_HOST,
    T_PREFIX,
    T_SECRET,
    T_TILE,
    T_SENTINELS,
    T_NAME
} type_t;

typedef struct {
    const char *key;
    type_t type;
    size_t off;
    long min, max; /* for T_INT and T_PCT; string length bounds otherwise */
    const char *rule;
} setting_t;

#define S(k, t, f, lo, hi, rule)                                                                   \
    { k, t, offsetof(bp_settings_t, f), lo, hi, rule }

static const setting_t table[] = {
    S("redis.host", T_HOST, redis_host, 1, 253, "a host name or IP address"),
    S("redis.port", T_INT, redis_port, 1, 65535, "an integer from 1 to 65535"),
    S("redis.user", T_STR, redis_user, 0, 128, "at most 128 characters (empty: default user)"),
    S("redis.password", T_SECRET, redis_password, 0, 255, "at most 255 characters"),
    S("redis.prefix", T_PREFIX, redis_prefix, 1, 32, "1 to 32 characters of [A-Za-z0-9:_.-]"),
    S("redis.connect_timeout_ms", T_INT, redis_connect_timeout_ms, 100, 60000,
      "an integer from 100 to 60000"),
    S("redis.ping_interval_ms", T_INT, redis_ping_interval_ms, 100, 60000,
      "an integer from 100 to 60000"),
    S("redis.command_timeout_ms", T_INT, redis_command_timeout_ms, 500, 600000,
      "an integer from 500 to 600000 (no reply at all for this long: the link is dead)"),
    S("redis.reconnect_max_ms", T_INT, redis_reconnect_max_ms, 100, 60000,
      "an integer from 100 to 60000"),
    S("redis.sentinels", T_SENTINELS, redis_sentinels, 0, 255,
      "empty, or comma-separated host:port of Redis Sentinels (at most 16; [v6]:port for IPv6)"),
    S("redis.master_name", T_NAME, redis_master_name, 1, 64,
      "1 to 64 characters of [A-Za-z0-9._-] (the name the sentinels monitor)"),
    S("redis.sentinel_password", T_SECRET, redis_sentinel_password, 0, 255,
      "at most 255 characters"),
    S("redis.min_replicas_ack", T_INT, redis_min_replicas_ack, 0, 16,
      "an integer from 0 to 16 (replicas that must confirm a change before it is acknowledged)"),
    S("redis.replica_ack_timeout_ms", T_INT, redis_replica_ack_timeout_ms, 10, 60000,
      "an integer from 10 to 60000"),
    S("stream.maxlen", T_INT, stream_maxlen, 1000, 100000000, "an integer from 1000 to 100000000"),
    S("stream.max_open_incidents", T_INT, stream_max_open_incidents, 1, 100000,
      "an integer from 1 to 100000"),
    S("collector.host", T_HOST, collector_host, 1, 253, "a host name or IP address"),
    S("collector.port", T_INT, collector_port, 0, 65535,
      "an integer from 0 to 65535 (0: any free port)"),
    S("collector.max_connections", T_INT, collector_max_connections, 1, 100000,
      "an integer from 1 to 100000"),
    S("collector.max_line_bytes", T_INT, collector_max_line_bytes, 1024, 1048576,
      "an integer from 1024 to 1048576"),
    S("collector.max_inflight", T_INT, collector_max_inflight, 1, 65536,
      "an integer from 1 to 65536"),
    S("collector.idle_timeout_s", T_INT, collector_idle_timeout_s, 1, 86400,
      "an integer from 1 to 86400"),
    S("collector.http_port", T_INT, collector_http_port, 0, 65535,
      "an integer from 0 to 65535 (health and metrics; 0: any free port)"),
    S("collector.anonymous", T_INT, collector_anonymous, 0, 1,
      "0 or 1 (1: feeds without a token, only with collector.host on loopback)"),
    S("collector.max_future_skew_s", T_INT, collector_max_future_skew_s, 0, 86400,
      "an integer from 0 to 86400"),
    S("collector.sources", T_STR, collector_sources, 1, 255,
      "a file path (the pollers' sources; a missing default file means none)"),
    S("collector.max_poll_bytes", T_INT, collector_max_poll_bytes, 4096, 268435456,
      "an integer from 4096 to 268435456 (bytes of one poll response)"),
    S("collector.tls_cert", T_STR, collector_tls_cert, 0, 255,
      "empty, or a PEM certificate (chain) file: the feed listener speaks TLS"),
    S("collector.tls_key", T_STR, collector_tls_key, 0, 255, "empty, or a PEM private key file"),
    S("collector.tls_ca", T_STR, collector_tls_ca, 0, 255,
      "empty, or a PEM file of the CAs that sign the collector's certificate (its clients then "
      "connect with TLS and verify it)"),
    S("sim.token", T_SECRET, sim_token, 0, 255,
      "empty (no hello: an anonymous feed, loopback only), or a feed token for bp-sim's hello"),
    S("sim.status_path", T_STR, sim_status_path, 0, 240,
      "empty, or a file bp-sim rewrites every 10 s saying whether it feeds (health checks)"),
    S("server.host", T_HOST, server_host, 1, 253, "a host name or IP address"),
    S("server.port", T_INT, server_port, 0, 65535, "an integer from 0 to 65535 (0: any free port)"),
    S("server.web_root", T_STR, server_web_root, 1, 255, "a directory path"),
    S("server.max_clients", T_INT, server_max_clients, 1, 1000000, "an integer from 1 to 1000000"),
    S("server.max_clients_per_ip", T_INT, server_max_clients_per_ip, 1, 1000000,
      "an integer from 1 to 1000000"),
    S("server.listen_backlog", T_INT, server_listen_backlog, 16, 1048576,
      "an integer from 16 to 1048576 (the kernel caps it at net.core.somaxconn)"),
    S("server.resume_max_events", T_INT, server_resume_max_events, 0, 1000000,
      "an integer from 0 to 1000000 (0: resume only from memory)"),
    S("server.deflate", T_INT, server_deflate, 0, 1,
      "0 or 1 (permessage-deflate; off by default: it compresses per client)"),
    S("server.ring_events", T_INT, server_ring_events, 16, 1048576,
      "an integer from 16 to 1048576"),
    S("server.ring_bytes", T_INT, server_ring_bytes, 65536, 1073741824,
      "an integer from 65536 to 1073741824"),
    S("server.max_frame_bytes", T_INT, server_max_frame_bytes, 4096, 16777216,
      "an integer from 4096 to 16777216"),
    S("server.ping_interval_s", T_INT, server_ping_interval_s, 1, 3600,
      "an integer from 1 to 3600"),
    S("server.idle_timeout_s", T_INT, server_idle_timeout_s, 2, 7200, "an integer from 2 to 7200"),
    S("server.slow_client_timeout_s", T_INT, server_slow_client_timeout_s, 1, 3600,
      "an integer from 1 to 3600"),
    S("server.hello_timeout_s", T_INT, server_hello_timeout_s, 1, 600, "an integer from 1 to 600"),
    S("server.tick_interval_s", T_INT, server_tick_interval_s, 1, 600, "an integer from 1 to 600"),
    S("web.tile_url", T_TILE, web_tile_url, 0, 255,
      "empty (no map tiles) or an http(s) URL template with {z}, {x} and {y}"),
    S("web.tile_attribution", T_STR, web_tile_attribution, 0, 255, "at most 255 characters"),
    S("web.leaflet_root", T_STR, web_leaflet_root, 1, 255,
      "a directory path (Leaflet's dist files)"),
    S("history.interval_s", T_INT, history_interval_s, 1, 3600,
      "an integer from 1 to 3600 (below 60 only for tests and demos)"),
    S("history.retention_h", T_INT, history_retention_h, 1, 720, "an integer from 1 to 720"),
    S("auth.anonymous", T_STR, auth_anonymous, 4, 10,
      "none, public, wall or dispatcher (what a request without a token may read)"),
    S("auth.session_hours", T_INT, auth_session_hours, 1, 720, "an integer from 1 to 720"),
    S("auth.login_failures_per_min", T_INT, auth_login_failures_per_min, 1, 10000,
      "an integer from 1 to 10000"),
    S("auth.writes_per_min", T_INT, auth_writes_per_min, 1, 100000, "an integer from 1 to 100000"),
    S("server.max_body_bytes", T_INT, server_max_body_bytes, 1024, 16777216,
      "an integer from 1024 to 16777216"),
    S("server.feed_max_body_bytes", T_INT, server_feed_max_body_bytes, 65536, 268435456,
      "an integer from 65536 to 268435456 (bytes of one POST /api/v1/feed)"),
    S("server.api_requests_per_min", T_INT, server_api_requests_per_min, 1, 1000000,
      "an integer from 1 to 1000000 (REST requests per client address)"),
    S("server.allowed_origins", T_STR, server_allowed_origins, 0, 255,
      "comma-separated origins (scheme://host[:port]) besides the server's own"),
    S("server.tls_cert", T_STR, server_tls_cert, 0, 255, "empty, or a PEM certificate file"),
    S("server.tls_key", T_STR, server_tls_key, 0, 255, "empty, or a PEM private key file"),
    S("audit.retention_days", T_INT, audit_retention_days, 1, 3650, "an integer from 1 to 3650"),
    S("config.hospitals", T_STR, config_hospitals, 1, 255, "a file path"),
    S("config.fleet", T_STR, config_fleet, 1, 255, "a file path"),
    S("config.dispatch", T_STR, config_dispatch, 1, 255, "a file path"),
    S("log.level", T_STR, log_level, 4, 5, "debug, info, warn or error"),
    S("log.format", T_STR, log_format, 4, 4, "text or json (one JSON object per line)"),
    S("log.access", T_INT, log_access, 0, 1, "0 or 1 (1: one line per HTTP request)"),
    S("notify.allow_private_targets", T_INT, notify_allow_private_targets, 0, 1,
      "0 or 1 (1: webhooks may reach loopback and private addresses; tests and closed networks)"),
    S("notify.max_subscriptions_per_person", T_INT, notify_max_subscriptions_per_person, 1, 1000,
      "an integer from 1 to 1000"),
    S("notify.max_subscriptions", T_INT, notify_max_subscriptions, 1, 100000,
      "an integer from 1 to 100000"),
    S("notify.rate_per_min", T_INT, notify_rate_per_min, 1, 100000,
      "an integer from 1 to 100000 (deliveries per subscription and minute; more wait)"),
    S("notify.retry_base_ms", T_INT, notify_retry_base_ms, 100, 600000,
      "an integer from 100 to 600000 (the first wait before a retry; it doubles)"),
    S("notify.retry_max_s", T_INT, notify_retry_max_s, 1, 86400,
      "an integer from 1 to 86400 (after this long a delivery goes to the dead letters)"),
    S("notify.queue_max", T_INT, notify_queue_max, 10, 1000000,
      "an integer from 10 to 1000000 (deliveries waiting; past it new ones are dead letters)"),
    S("notify.timeout_s", T_INT, notify_timeout_s, 1, 300, "an integer from 1 to 300"),
    S("notify.max_inflight", T_INT, notify_max_inflight, 1, 1000,
      "an integer from 1 to 1000 (deliveries in progress per server)"),
    S("smtp.url", T_STR, smtp_url, 0, 255,
      "empty (no e-mail) or smtp://host[:port] or smtps://host[:port]"),
    S("smtp.from", T_STR, smtp_from, 0, 254, "empty, or the sender address (name@example.org)"),
    S("smtp.user", T_STR, smtp_user, 0, 128, "at most 128 characters (empty: no login)"),
    S("smtp.password", T_SECRET, smtp_password, 0, 255, "at most 255 characters"),
    S("public.licence", T_STR, public_licence, 1, 128,
      "1 to 128 characters: the licence of the public data (e.g. CC BY 4.0)"),
    S("public.licence_url", T_STR, public_licence_url, 0, 255, "a URL (the licence text)"),
    S("public.publisher", T_STR, public_publisher, 1, 160,
      "1 to 160 characters: who publishes the public data"),
    S("pressure.level2_pct", T_PCT, pressure.level2_pct, 1, 1000, "a number from 1 to 1000"),
    S("pressure.level3_pct", T_PCT, pressure.level3_pct, 1, 1000, "a number from 1 to 1000"),
    S("pressure.level4_pct", T_PCT, pressure.level4_pct, 1, 1000, "a number from 1 to 1000"),
};

#define N_SETTINGS (sizeof table / sizeof table[0])

void bp_settings_defaults(bp_settings_t *s) {
    memset(s, 0, sizeof *s);
    strcpy(s->redis_host, "127.0.0.1");
    s->redis_port = 6379;
    strcpy(s->redis_prefix, "bp:");
    s->redis_connect_timeout_ms = 2000;
    s->redis_ping_interval_ms = 1000;
    s->redis_command_timeout_ms = 10000;
    strcpy(s->log_level, "info");
    strcpy(s->log_format, "text");
    s->log_access = 1;
    s->redis_reconnect_max_ms = 5000;
    strcpy(s->redis_master_name, "bedpulse");
    s->redis_min_replicas_ack = 0;
    s->redis_replica_ack_timeout_ms = 1000;
    s->stream_maxlen = 100000;
    s->stream_max_open_incidents = 2000;
    strcpy(s->collector_host, "127.0.0.1");
    s->collector_port = 7070;
    s->collector_http_port = 7071;
    s->collector_max_connections = 256;
    s->collector_max_line_bytes = 65536;
    s->collector_max_inflight = 1024;
    s->collector_idle_timeout_s = 600;
    s->collector_max_future_skew_s = 300;
    strcpy(s->collector_sources, "config/sources.json");
    s->collector_max_poll_bytes = 4 * 1024 * 1024;
    strcpy(s->server_host, "127.0.0.1");
    s->server_port = 8080;
    strcpy(s->server_web_root, "web");
    s->server_max_clients = 20000;
    s->server_max_clients_per_ip = 1000;
    s->server_listen_backlog = 16384;
    s->server_resume_max_events = 10000;
    s->server_deflate = 0;
    s->server_ring_events = 4096;
    s->server_ring_bytes = 16 * 1024 * 1024;
    s->server_max_frame_bytes = 64 * 1024;
    s->server_ping_interval_s = 20;
    s->server_idle_timeout_s = 60;
    s->server_slow_client_timeout_s = 30;
    s->server_hello_timeout_s = 10;
    s->server_tick_interval_s = 10;
    strcpy(s->web_leaflet_root, "/usr/share/javascript/leaflet");
    s->history_interval_s = 300;
    s->history_retention_h = 48;
    s->audit_retention_days = 180;
    strcpy(s->auth_anonymous, "none");
    s->auth_session_hours = 12;
    s->auth_login_failures_per_min = 10;
    s->auth_writes_per_min = 60;
    s->server_max_body_bytes = 65536;
    s->server_feed_max_body_bytes = 8 * 1024 * 1024;
    s->server_api_requests_per_min = 1200;
    strcpy(s->config_hospitals, "config/hospitals.json");
    strcpy(s->config_fleet, "config/fleet.json");
    strcpy(s->config_dispatch, "config/dispatch.json");
    s->notify_max_subscriptions_per_person = 20;
    s->notify_max_subscriptions = 1000;
    s->notify_rate_per_min = 30;
    s->notify_retry_base_ms = 5000;
    s->notify_retry_max_s = 3600;
    s->notify_queue_max = 10000;
    s->notify_timeout_s = 10;
    s->notify_max_inflight = 16;
    strcpy(s->public_licence, "CC BY 4.0");
    strcpy(s->public_licence_url, "https://creativecommons.org/licenses/by/4.0/");
    strcpy(s->public_publisher, "BedPulse demo (Hanoi)");
    s->pressure = bp_pressure_default;
}

/* The table's indexes sorted by key, built once when the program loads, so a
 * lookup is a binary search (the config fuzzer sets every key of a file,
 * and a linear scan per key made that quadratic). The table's own order is
 * kept: it is the order bp_settings_key lists. */
static unsigned char by_key[N_SETTINGS];
_Static_assert(N_SETTINGS <= 256, "by_key holds indexes below 256");

static int key_cmp(const void *a, const void *b) {
    return strcmp(table[*(const unsigned char *)a].key, table[*(const unsigned char *)b].key);
}

__attribute__((constructor)) static void by_key_build(void) {
    for (size_t i = 0; i < N_SETTINGS; i++)
        by_key[i] = (unsigned char)i;
    qsort(by_key, N_SETTINGS, sizeof by_key[0], key_cmp);
}

static const setting_t *lookup(const char *key) {
    size_t lo = 0, hi = N_SETTINGS;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const setting_t *t = &table[by_key[mid]];
        int c = strcmp(key, t->key);
        if (c == 0) return t;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

static int str_ok(const setting_t *t, const char *v) {
    size_t n = strlen(v);
    if ((long)n < t->min || (long)n > t->max) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c < 0x20 || c == 0x7f) return 0;
        if (t->type == T_HOST && !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                   (c >= '0' && c <= '9') || c == '.' || c == '-' || c == ':'))
            return 0;
        if (t->type == T_PREFIX &&
            !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == ':' || c == '_' || c == '.' || c == '-'))
            return 0;
    }
    if (t->type == T_SENTINELS && n > 0) {
        bp_sentinel_list_t l;
        if (bp_sentinel_list_parse(&l, v, NULL)) return 0;
    }
    if (t->type == T_NAME && !bp_sentinel_name_ok(v)) return 0;
    if (t->type == T_TILE && n > 0) {
        /* http(s)://host/...{z}...{x}...{y}..., nothing that could break out
         * of a header or a CSP source list */
        if (strncmp(v, "https://", 8) != 0 && strncmp(v, "http://", 7) != 0) return 0;
        if (!strstr(v, "{z}") || !strstr(v, "{x}") || !strstr(v, "{y}")) return 0;
        if (strpbrk(v, " ;,'\"\\")) return 0;
    }
    return 1;
}

/* "redis.password_file" -> the secret setting it names, or NULL. */
static const setting_t *secret_of_file_key(const char *key) {
    size_t n = strlen(key);
    if (n <= 5 || n >= 64 || strcmp(key + n - 5, "_file") != 0) return NULL;
    char base[64];
    snprintf(base, sizeof base, "%.*s", (int)(n - 5), key);
    const setting_t *t = lookup(base);
    return t && t->type == T_SECRET ? t : NULL;
}

static int set_secret_file(bp_settings_t *s, const setting_t *t, const char *path,
                           bp_error_t *err) {
    char fk[80];
    snprintf(fk, sizeof fk, "%s_file", t->key);
    size_t n = strlen(path);
    if (n == 0 || n >= BP_SETTING_STR_MAX)
        return bp_error_set(err, "bad_setting", fk, "setting %s must be a file path", fk);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)path[i] < 0x20)
            return bp_error_set(err, "bad_setting", fk, "setting %s must be a file path", fk);
    size_t i = 0;
    while (i < s->n_secret_files && strcmp(s->secret_file[i].key, t->key) != 0)
        i++;
    if (i == BP_SECRET_FILES_MAX)
        return bp_error_set(err, "bad_setting", fk, "too many secret files");
    if (i == s->n_secret_files) s->n_secret_files++;
    snprintf(s->secret_file[i].key, sizeof s->secret_file[i].key, "%s", t->key);
    snprintf(s->secret_file[i].path, sizeof s->secret_file[i].path, "%s", path);
    return 0;
}

int bp_settings_set(bp_settings_t *s, const char *key, const char *value, bp_error_t *err) {
    const setting_t *t = lookup(key);
    if (!t && (t = secret_of_file_key(key))) return set_secret_file(s, t, value, err);
    if (!t) return bp_error_set(err, "unknown_setting", key, "unknown setting \"%s\"", key);
    char *dst = (char *)s + t->off;
    switch (t->type) {
    case T_INT: {
        errno = 0;
        char *end;
        long v = strtol(value, &end, 10);
        if (errno || end == value || *end || v < t->min || v > t->max)
            return bp_error_set(err, "bad_setting", key, "setting %s must be %s, got \"%.64s\"",
                                key, t->rule, value);
        *(int *)dst = (int)v;
        return 0;
    }
    case T_PCT: {
        errno = 0;
        char *end;
        double v = strtod(value, &end);
        if (errno || end == value || *end || !(v >= t->min && v <= t->max))
            return bp_error_set(err, "bad_setting", key, "setting %s must be %s, got \"%.64s\"",
                                key, t->rule, value);
        *(double *)dst = v;
        return 0;
    }
    default:
        if (t->type == T_SENTINELS && value[0] && strlen(value) <= (size_t)t->max) {
            /* the list parser says which entry is wrong */
            bp_sentinel_list_t l;
            if (bp_sentinel_list_parse(&l, value, err)) return -1;
        }
        if (!str_ok(t, value))
            return bp_error_set(err, "bad_setting", key, "setting %s must be %s", key, t->rule);
        snprintf(dst, BP_SETTING_STR_MAX, "%s", value);
        return 0;
    }
}

int bp_settings_apply_env(bp_settings_t *s, char *const *envp, const char *const *ignore,
                          bp_error_t *err) {
    for (; envp && *envp; envp++) {
        const char *e = *envp;
        if (strncmp(e, "BP_", 3) != 0) continue;
        const char *eq = strchr(e, '=');
        if (!eq) continue;
        size_t nlen = (size_t)(eq - e);
        int skip = 0;
        for (const char *const *ig = ignore; ig && *ig; ig++)
            if (strlen(*ig) == nlen && strncmp(*ig, e, nlen) == 0) skip = 1;
        if (skip) continue;
        /* Match the variable against each key's env form (and, for a
         * secret, its _FILE form). */
        const setting_t *t = NULL;
        bool file = false;
        for (size_t i = 0; i < N_SETTINGS && !t; i++) {
            const char *k = table[i].key;
            size_t kl = strlen(k);
            bool as_file =
                table[i].type == T_SECRET && kl + 8 == nlen && strncmp(e + 3 + kl, "_FILE", 5) == 0;
            if (kl + 3 != nlen && !as_file) continue;
            size_t j = 0;
            for (; j < kl; j++) {
                char want =
                    k[j] == '.' ? '_' : (char)(k[j] >= 'a' && k[j] <= 'z' ? k[j] - 32 : k[j]);
                if (e[3 + j] != want) break;
            }
            if (j == kl) {
                t = &table[i];
                file = as_file;
            }
        }
        if (t && file) {
            if (set_secret_file(s, t, eq + 1, err)) return -1;
            continue;
        }
        if (!t) {
            char name[96];
            snprintf(name, sizeof name, "%.*s", (int)(nlen < 90 ? nlen : 90), e);
            return bp_error_set(err, "unknown_setting", name,
                                "unknown environment variable %s (settings are BP_<SECTION>_<KEY>, "
                                "e.g. BP_REDIS_PORT)",
                                name);
        }
        if (bp_settings_set(s, t->key, eq + 1, err)) return -1;
    }
    return 0;
}

int bp_settings_check(const bp_settings_t *s, bp_error_t *err) {
    const bp_pressure_cfg_t *p = &s->pressure;
    if (!(p->level2_pct < p->level3_pct && p->level3_pct < p->level4_pct))
        return bp_error_set(err, "bad_setting", "pressure",
                            "pressure thresholds must increase: level2_pct (%g) < level3_pct (%g) "
                            "< level4_pct (%g)",
                            p->level2_pct, p->level3_pct, p->level4_pct);
    if (strcmp(s->auth_anonymous, "none") && strcmp(s->auth_anonymous, "public") &&
        strcmp(s->auth_anonymous, "wall") && strcmp(s->auth_anonymous, "dispatcher"))
        return bp_error_set(err, "bad_setting", "auth.anonymous",
                            "auth.anonymous must be none, public, wall or dispatcher, not \"%s\"",
                            s->auth_anonymous);
    if (strcmp(s->log_level, "debug") && strcmp(s->log_level, "info") &&
        strcmp(s->log_level, "warn") && strcmp(s->log_level, "error"))
        return bp_error_set(err, "bad_setting", "log.level",
                            "log.level must be debug, info, warn or error, not \"%s\"",
                            s->log_level);
    if (strcmp(s->log_format, "text") && strcmp(s->log_format, "json"))
        return bp_error_set(err, "bad_setting", "log.format",
                            "log.format must be text or json, not \"%s\"", s->log_format);
    if (!s->server_tls_cert[0] != !s->server_tls_key[0])
        return bp_error_set(err, "bad_setting", "server.tls_cert",
                            "server.tls_cert and server.tls_key go together");
    if (!s->collector_tls_cert[0] != !s->collector_tls_key[0])
        return bp_error_set(err, "bad_setting", "collector.tls_cert",
                            "collector.tls_cert and collector.tls_key go together");
    if (s->collector_anonymous && !bp_settings_loopback(s->collector_host))
        return bp_error_set(err, "bad_setting", "collector.anonymous",
                            "collector.anonymous = 1 is allowed only with collector.host on "
                            "loopback (127.0.0.1, ::1 or localhost), not \"%s\"",
                            s->collector_host);
    if (s->redis_min_replicas_ack > 0 &&
        s->redis_replica_ack_timeout_ms >= s->redis_command_timeout_ms)
        return bp_error_set(err, "bad_setting", "redis.replica_ack_timeout_ms",
                            "redis.replica_ack_timeout_ms (%d) must be less than "
                            "redis.command_timeout_ms (%d): a WAIT for replicas holds the "
                            "connection that long, and a link silent for the command timeout is "
                            "taken for dead",
                            s->redis_replica_ack_timeout_ms, s->redis_command_timeout_ms);
    if (s->redis_sentinel_password[0] && !s->redis_sentinels[0])
        return bp_error_set(err, "bad_setting", "redis.sentinel_password",
                            "redis.sentinel_password is set but redis.sentinels is empty");
    if (s->smtp_url[0] && strncmp(s->smtp_url, "smtp://", 7) != 0 &&
        strncmp(s->smtp_url, "smtps://", 8) != 0)
        return bp_error_set(err, "bad_setting", "smtp.url",
                            "smtp.url must be empty or smtp://host[:port] or smtps://host[:port]");
    if (s->smtp_url[0] &&
        (!s->smtp_from[0] || !strchr(s->smtp_from, '@') || strpbrk(s->smtp_from, " <>\r\n,;")))
        return bp_error_set(err, "bad_setting", "smtp.from",
                            "smtp.from must be the sender address (name@example.org) when smtp.url "
                            "is set");
    if (s->server_idle_timeout_s <= s->server_ping_interval_s)
        return bp_error_set(
            err, "bad_setting", "server.idle_timeout_s",
            "server.idle_timeout_s (%d) must be greater than server.ping_interval_s "
            "(%d): a client gets a ping before it can be dropped for silence",
            s->server_idle_timeout_s, s->server_ping_interval_s);
    return 0;
}

bool bp_settings_loopback(const char *host) {
    return strcmp(host, "127.0.0.1") == 0 || strcmp(host, "::1") == 0 ||
           strcmp(host, "localhost") == 0;
}

const char *bp_settings_key(size_t i) {
    return i < N_SETTINGS ? table[i].key : NULL;
}

int bp_settings_get(const bp_settings_t *s, const char *key, char *out, size_t out_len) {
    const setting_t *t = lookup(key);
    if (!t) return -1;
    const char *src = (const char *)s + t->off;
    switch (t->type) {
    case T_INT: snprintf(out, out_len, "%d", *(const int *)src); break;
    case T_PCT: snprintf(out, out_len, "%g", *(const double *)src); break;
    case T_SECRET: snprintf(out, out_len, "%s", *src ? "***" : ""); break;
    default: snprintf(out, out_len, "%s", src); break;
    }
    return 0;
}

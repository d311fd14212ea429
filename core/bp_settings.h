/*
 * Settings: one table of every knob, with its type, default and rule.
 *
 * Sources, later wins: built-in defaults, the settings file
 * (config/settings.json, nested objects "section": {"key": ...}), then
 * environment variables BP_<SECTION>_<KEY> (upper case). An unknown key in
 * the file, an unknown BP_* variable, or a value breaking its rule stops
 * start-up with an error naming the key and the rule. Ports, limits and
 * timeouts all live here so that every bound is a named value.
 */
#ifndef BP_SETTINGS_H
#define BP_SETTINGS_H

#include "bp_error.h"
#include "bp_model.h"

#include <stdbool.h>
#include <stddef.h>

#define BP_SETTING_STR_MAX  256
#define BP_SECRET_FILES_MAX 8

typedef struct bp_settings {
    /* redis */
    char redis_host[BP_SETTING_STR_MAX];
    int redis_port;
    char redis_user[BP_SETTING_STR_MAX];
    char redis_password[BP_SETTING_STR_MAX];
    char redis_prefix[BP_SETTING_STR_MAX];
    int redis_connect_timeout_ms;
    int redis_ping_interval_ms;
    int redis_command_timeout_ms;
    int redis_reconnect_max_ms;
    char redis_sentinels[BP_SETTING_STR_MAX];   /* "host:port,..." or "": redis.host/port */
    char redis_master_name[BP_SETTING_STR_MAX]; /* the master's name at the sentinels */
    char redis_sentinel_password[BP_SETTING_STR_MAX];
    int redis_min_replicas_ack;       /* WAIT for this many replicas before acknowledging */
    int redis_replica_ack_timeout_ms; /* ...for at most this long, else "unavailable" */
    int stream_maxlen;
    int stream_max_open_incidents; /* open 115 incidents at once (collector refuses more) */
    /* collector */
    char collector_host[BP_SETTING_STR_MAX];
    int collector_port;
    int collector_http_port;
    int collector_max_connections;
    int collector_max_line_bytes;
    int collector_max_inflight;
    int collector_idle_timeout_s;
    int collector_max_future_skew_s;
    int collector_anonymous;
    char collector_sources[BP_SETTING_STR_MAX];  /* the pollers' sources (config/sources.json) */
    int collector_max_poll_bytes;                /* largest poll response */
    char collector_tls_cert[BP_SETTING_STR_MAX]; /* the listener speaks TLS (with tls_key) */
    char collector_tls_key[BP_SETTING_STR_MAX];
    char collector_tls_ca[BP_SETTING_STR_MAX]; /* clients: TLS, verified against this CA */
    /* simulator */
    char sim_token[BP_SETTING_STR_MAX];       /* feed token for its hello; empty: none */
    char sim_status_path[BP_SETTING_STR_MAX]; /* rewritten every status period; empty: none */
    /* server */
    char server_host[BP_SETTING_STR_MAX];
    int server_port;
    char server_web_root[BP_SETTING_STR_MAX];
    int server_max_clients;
    int server_max_clients_per_ip;
    int server_listen_backlog;
    int server_resume_max_events;
    int server_deflate;
    int server_ring_events;
    int server_ring_bytes;
    int server_max_frame_bytes;
    int server_ping_interval_s;
    int server_idle_timeout_s;
    int server_slow_client_timeout_s;
    int server_hello_timeout_s;
    int server_tick_interval_s;
    /* browser views */
    char web_tile_url[BP_SETTING_STR_MAX];
    char web_tile_attribution[BP_SETTING_STR_MAX];
    char web_leaflet_root[BP_SETTING_STR_MAX];
    /* trend history */
    int history_interval_s;
    int history_retention_h;
    /* authentication and limits (issue 5) */
    char auth_anonymous[BP_SETTING_STR_MAX]; /* none | public | wall | dispatcher */
    int auth_session_hours;
    int auth_login_failures_per_min;
    int auth_writes_per_min;
    int server_max_body_bytes;
    int server_feed_max_body_bytes; /* POST /api/v1/feed: NDJSON, HAVE or FHIR */
    int server_api_requests_per_min;
    char server_allowed_origins[BP_SETTING_STR_MAX];
    char server_tls_cert[BP_SETTING_STR_MAX];
    char server_tls_key[BP_SETTING_STR_MAX];
    /* audit trail */
    int audit_retention_days;
    /* registry files */
    char config_hospitals[BP_SETTING_STR_MAX];
    char config_fleet[BP_SETTING_STR_MAX];
    char config_dispatch[BP_SETTING_STR_MAX];
    /* log */
    char log_level[BP_SETTING_STR_MAX];
    char log_format[BP_SETTING_STR_MAX];
    int log_access;
    /* notifications (issue 14): subscriptions, delivery, e-mail */
    int notify_allow_private_targets;
    int notify_max_subscriptions_per_person;
    int notify_max_subscriptions;
    int notify_rate_per_min;
    int notify_retry_base_ms;
    int notify_retry_max_s;
    int notify_queue_max;
    int notify_timeout_s;
    int notify_max_inflight;
    char smtp_url[BP_SETTING_STR_MAX];
    char smtp_from[BP_SETTING_STR_MAX];
    char smtp_user[BP_SETTING_STR_MAX];
    char smtp_password[BP_SETTING_STR_MAX];
    /* the public page and open data */
    char public_licence[BP_SETTING_STR_MAX];
    char public_licence_url[BP_SETTING_STR_MAX];
    char public_publisher[BP_SETTING_STR_MAX];
    /* pressure thresholds, percent of staffed inpatient beds occupied */
    bp_pressure_cfg_t pressure;
    /* secrets to read from files (<key>_file / BP_<SECTION>_<KEY>_FILE):
     * the programs read them after the settings (bp_config.c) */
    struct {
        char key[64];
        char path[BP_SETTING_STR_MAX];
    } secret_file[BP_SECRET_FILES_MAX];
    size_t n_secret_files;
} bp_settings_t;

void bp_settings_defaults(bp_settings_t *s);

/* Sets one key ("redis.port") from its text form. Fails naming the key and
 * its rule on an unknown key or a bad value; s is unchanged then. Every
 * secret ("redis.password") may instead be given as "<key>_file": the path
 * of a file holding it, recorded in s->secret_file for the caller to read
 * (Docker/Kubernetes secrets, systemd credentials). */
int bp_settings_set(bp_settings_t *s, const char *key, const char *value, bp_error_t *err);

/* Applies BP_<SECTION>_<KEY> variables from envp (NULL-terminated).
 * Variables in `ignore` (NULL-terminated list of names, may be NULL) are
 * skipped; any other BP_* name that is not a setting is an error. */
int bp_settings_apply_env(bp_settings_t *s, char *const *envp, const char *const *ignore,
                          bp_error_t *err);

/* Cross-field rules, checked after all sources are applied: the pressure
 * thresholds must increase (level2 < level3 < level4), a replica
 * acknowledgement must be awaited for less than the command timeout, and
 * so on (each message names the keys). */
int bp_settings_check(const bp_settings_t *s, bp_error_t *err);

/* Whether host names the loopback interface (127.0.0.1, ::1, localhost):
 * the one place a feed may go without a token, or a token without TLS. */
bool bp_settings_loopback(const char *host);

/* Iterates over the table: returns the key at index i, or NULL past the end. */
const char *bp_settings_key(size_t i);

/* Writes the value of key as text into out (secrets as "***"). */
int bp_settings_get(const bp_settings_t *s, const char *key, char *out, size_t out_len);

#endif

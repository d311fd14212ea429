/*
 * Tests for bp_settings (defaults, one key at a time, environment
 * overrides, cross-field checks) and the settings file reader in bp_codec.
 */
#include "test_util.h"

#include "bp_settings.h"

static void expect_set_error(const char *key, const char *value, const char *code,
                             const char *rule_part) {
    bp_settings_t s, before;
    bp_settings_defaults(&s);
    memcpy(&before, &s, sizeof s);
    bp_error_t err;
    memset(&err, 0, sizeof err);
    if (bp_settings_set(&s, key, value, &err) == 0) fail_msg("%s=\"%s\" was accepted", key, value);
    assert_string_equal(err.code, code);
    assert_string_equal(err.field, key);
    /* the message names the key and the rule */
    if (!strstr(err.message, key)) fail_msg("message does not name %s: %s", key, err.message);
    if (rule_part && !strstr(err.message, rule_part))
        fail_msg("message does not give the rule \"%s\": %s", rule_part, err.message);
    /* and nothing changed */
    assert_memory_equal(&s, &before, sizeof s);
}

static void test_defaults(void **state) {
    (void)state;
    bp_settings_t s;
    memset(&s, 0x7f, sizeof s);
    bp_settings_defaults(&s);
    assert_string_equal(s.redis_host, "127.0.0.1");
    assert_int_equal(s.redis_port, 6379);
    assert_string_equal(s.redis_user, "");
    assert_string_equal(s.redis_password, "");
    assert_string_equal(s.redis_prefix, "bp:");
    assert_string_equal(s.redis_sentinels, "");
    assert_string_equal(s.redis_master_name, "bedpulse");
    assert_string_equal(s.redis_sentinel_password, "");
    assert_int_equal(s.redis_min_replicas_ack, 0);
    assert_int_equal(s.redis_replica_ack_timeout_ms, 1000);
    assert_int_equal(s.stream_maxlen, 100000);
    assert_int_equal(s.stream_max_open_incidents, 2000);
    assert_int_equal(s.collector_port, 7070);
    assert_int_equal(s.collector_max_line_bytes, 65536);
    assert_int_equal(s.collector_max_future_skew_s, 300);
    assert_int_equal(s.server_port, 8080);
    assert_string_equal(s.server_web_root, "web");
    assert_int_equal(s.server_ring_bytes, 16 * 1024 * 1024);
    assert_int_equal(s.server_max_frame_bytes, 65536);
    assert_int_equal(s.server_tick_interval_s, 10);
    assert_string_equal(s.config_hospitals, "config/hospitals.json");
    assert_string_equal(s.config_fleet, "config/fleet.json");
    assert_float_equal(s.pressure.level2_pct, 85, 0);
    assert_float_equal(s.pressure.level3_pct, 95, 0);
    assert_float_equal(s.pressure.level4_pct, 110, 0);
    bp_error_t err;
    assert_int_equal(bp_settings_check(&s, &err), 0);
}

static void test_set_good_values(void **state) {
    (void)state;
    bp_settings_t s;
    bp_settings_defaults(&s);
    bp_error_t err;
    assert_int_equal(bp_settings_set(&s, "redis.port", "6390", &err), 0);
    assert_int_equal(s.redis_port, 6390);
    assert_int_equal(bp_settings_set(&s, "redis.port", "1", &err), 0);
    assert_int_equal(s.redis_port, 1);
    assert_int_equal(bp_settings_set(&s, "redis.port", "65535", &err), 0);
    assert_int_equal(s.redis_port, 65535);
    assert_int_equal(bp_settings_set(&s, "collector.port", "0", &err), 0);
    assert_int_equal(s.collector_port, 0);
    assert_int_equal(bp_settings_set(&s, "redis.host", "redis-1.internal", &err), 0);
    assert_string_equal(s.redis_host, "redis-1.internal");
    assert_int_equal(bp_settings_set(&s, "server.host", "::1", &err), 0);
    assert_string_equal(s.server_host, "::1");
    assert_int_equal(bp_settings_set(&s, "redis.prefix", "bp:test_1.x-", &err), 0);
    assert_string_equal(s.redis_prefix, "bp:test_1.x-");
    assert_int_equal(bp_settings_set(&s, "redis.password", "s3cr3t pass", &err), 0);
    assert_string_equal(s.redis_password, "s3cr3t pass");
    assert_int_equal(bp_settings_set(&s, "pressure.level2_pct", "80.5", &err), 0);
    assert_float_equal(s.pressure.level2_pct, 80.5, 0);
    assert_int_equal(bp_settings_set(&s, "server.web_root", "/srv/bedpulse/web", &err), 0);
    assert_string_equal(s.server_web_root, "/srv/bedpulse/web");
    assert_int_equal(bp_settings_set(&s, "collector.max_line_bytes", "1024", &err), 0);
    assert_int_equal(s.collector_max_line_bytes, 1024);
    assert_int_equal(
        bp_settings_set(&s, "redis.sentinels", "10.0.0.1:26379, 10.0.0.2:26379,[::1]:26379", &err),
        0);
    assert_string_equal(s.redis_sentinels, "10.0.0.1:26379, 10.0.0.2:26379,[::1]:26379");
    assert_int_equal(bp_settings_set(&s, "redis.sentinels", "", &err), 0);
    assert_string_equal(s.redis_sentinels, "");
    assert_int_equal(bp_settings_set(&s, "redis.master_name", "hanoi-prod_1.bp", &err), 0);
    assert_string_equal(s.redis_master_name, "hanoi-prod_1.bp");
    assert_int_equal(bp_settings_set(&s, "redis.sentinel_password", "s pass", &err), 0);
    assert_string_equal(s.redis_sentinel_password, "s pass");
    assert_int_equal(bp_settings_set(&s, "redis.min_replicas_ack", "2", &err), 0);
    assert_int_equal(s.redis_min_replicas_ack, 2);
    assert_int_equal(bp_settings_set(&s, "redis.replica_ack_timeout_ms", "250", &err), 0);
    assert_int_equal(s.redis_replica_ack_timeout_ms, 250);
}

static void test_set_bad_values(void **state) {
    (void)state;
    expect_set_error("redis.port", "0", "bad_setting", "1 to 65535");
    expect_set_error("redis.port", "65536", "bad_setting", "1 to 65535");
    expect_set_error("redis.port", "-1", "bad_setting", "1 to 65535");
    expect_set_error("redis.port", "abc", "bad_setting", "1 to 65535");
    expect_set_error("redis.port", "", "bad_setting", "1 to 65535");
    expect_set_error("redis.port", "63 79", "bad_setting", NULL);
    expect_set_error("redis.port", "6379x", "bad_setting", NULL);
    expect_set_error("redis.port", "6379.5", "bad_setting", NULL);
    expect_set_error("redis.port", "99999999999999999999999", "bad_setting", NULL);
    expect_set_error("collector.max_line_bytes", "1023", "bad_setting", "1024 to 1048576");
    expect_set_error("server.ring_events", "15", "bad_setting", "16 to 1048576");
    expect_set_error("redis.host", "", "bad_setting", "host name");
    expect_set_error("redis.host", "bad host", "bad_setting", "host name");
    expect_set_error("redis.host", "host/path", "bad_setting", NULL);
    expect_set_error("redis.prefix", "", "bad_setting", "1 to 32");
    expect_set_error("redis.prefix", "has space", "bad_setting", NULL);
    expect_set_error("redis.prefix", "123456789012345678901234567890123", "bad_setting", "1 to 32");
    expect_set_error("redis.user", "tab\there", "bad_setting", NULL);
    expect_set_error("pressure.level2_pct", "0", "bad_setting", "1 to 1000");
    expect_set_error("pressure.level2_pct", "1001", "bad_setting", "1 to 1000");
    expect_set_error("pressure.level2_pct", "nan", "bad_setting", NULL);
    expect_set_error("pressure.level2_pct", "inf", "bad_setting", NULL);
    expect_set_error("pressure.level2_pct", "1e999", "bad_setting", NULL);
    expect_set_error("pressure.level2_pct", "85%", "bad_setting", NULL);
    /* the list parser names the entry at fault */
    expect_set_error("redis.sentinels", "10.0.0.1", "bad_setting", "entry 1");
    expect_set_error("redis.sentinels", "10.0.0.1:26379,10.0.0.2", "bad_setting", "entry 2");
    expect_set_error("redis.sentinels", "a:1,a:1", "bad_setting", "twice");
    expect_set_error("redis.sentinels", "::1:26379", "bad_setting", NULL);
    expect_set_error("redis.master_name", "", "bad_setting", "1 to 64");
    expect_set_error("redis.master_name", "two words", "bad_setting", "[A-Za-z0-9._-]");
    expect_set_error("redis.min_replicas_ack", "-1", "bad_setting", "0 to 16");
    expect_set_error("redis.min_replicas_ack", "17", "bad_setting", "0 to 16");
    expect_set_error("redis.replica_ack_timeout_ms", "9", "bad_setting", "10 to 60000");
}

static void test_set_unknown_key(void **state) {
    (void)state;
    expect_set_error("redis.prot", "1", "unknown_setting", NULL);
    expect_set_error("redis", "1", "unknown_setting", NULL);
    expect_set_error("REDIS.PORT", "1", "unknown_setting", NULL);
    expect_set_error("", "1", "unknown_setting", NULL);
}

/* Every key in the table reads back and can be set to what it reads. */
static void test_get_and_key_table(void **state) {
    (void)state;
    bp_settings_t s, copy;
    bp_settings_defaults(&s);
    memcpy(&copy, &s, sizeof s);
    size_t n = 0;
    char val[BP_SETTING_STR_MAX];
    for (const char *k; (k = bp_settings_key(n)); n++) {
        assert_int_equal(bp_settings_get(&s, k, val, sizeof val), 0);
        bp_error_t err;
        if (bp_settings_set(&copy, k, val, &err))
            fail_msg("%s: default \"%s\" does not set back: %s", k, val, err.message);
    }
    assert_int_equal(n, 89);
    assert_memory_equal(&s, &copy, sizeof s);
    assert_int_equal(bp_settings_get(&s, "redis.port", val, sizeof val), 0);
    assert_string_equal(val, "6379");
    assert_int_equal(bp_settings_get(&s, "pressure.level4_pct", val, sizeof val), 0);
    assert_string_equal(val, "110");
    assert_int_equal(bp_settings_get(&s, "redis.nope", val, sizeof val), -1);
    /* secrets never read back */
    assert_int_equal(bp_settings_get(&s, "redis.password", val, sizeof val), 0);
    assert_string_equal(val, "");
    bp_error_t err;
    assert_int_equal(bp_settings_set(&s, "redis.password", "hunter2", &err), 0);
    assert_int_equal(bp_settings_get(&s, "redis.password", val, sizeof val), 0);
    assert_string_equal(val, "***");
}

static bool is_key(const char *k) {
    for (size_t i = 0; bp_settings_key(i); i++)
        if (strcmp(bp_settings_key(i), k) == 0) return true;
    return false;
}

/* Lookups go through an index sorted by key: keys are unique, each finds its
 * own field (set one, and only it reads back changed), and near misses of
 * every key (one byte short, one more, one changed) are unknown unless they
 * are keys themselves. */
static void test_lookup_index(void **state) {
    (void)state;
    size_t n = 0;
    while (bp_settings_key(n))
        n++;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            assert_string_not_equal(bp_settings_key(i), bp_settings_key(j));
    char val[BP_SETTING_STR_MAX], before[BP_SETTING_STR_MAX], miss[128];
    for (size_t i = 0; i < n; i++) {
        const char *k = bp_settings_key(i);
        size_t len = strlen(k);
        assert_true(len > 1 && len + 2 < sizeof miss);
        const char *edits[3];
        snprintf(miss, sizeof miss, "%.*s", (int)(len - 1), k);
        char longer[128], changed[128];
        snprintf(longer, sizeof longer, "%sx", k);
        snprintf(changed, sizeof changed, "%s", k);
        changed[len / 2] = changed[len / 2] == 'q' ? 'r' : 'q';
        edits[0] = miss;
        edits[1] = longer;
        edits[2] = changed;
        bp_settings_t s;
        bp_settings_defaults(&s);
        for (int e = 0; e < 3; e++)
            if (!is_key(edits[e]))
                assert_int_equal(bp_settings_get(&s, edits[e], val, sizeof val), -1);
    }
    /* an int setting changes its own field only */
    bp_settings_t s, t;
    bp_settings_defaults(&s);
    bp_settings_defaults(&t);
    bp_error_t err;
    assert_int_equal(bp_settings_set(&s, "server.port", "18080", &err), 0);
    for (size_t i = 0; i < n; i++) {
        const char *k = bp_settings_key(i);
        assert_int_equal(bp_settings_get(&s, k, val, sizeof val), 0);
        assert_int_equal(bp_settings_get(&t, k, before, sizeof before), 0);
        if (strcmp(k, "server.port") == 0)
            assert_string_equal(val, "18080");
        else
            assert_string_equal(val, before);
    }
}

/* A secret may be given as a file: <key>_file, or BP_<SECTION>_<KEY>_FILE.
 * Only secrets: other keys have no _file form. */
static void test_secret_files(void **state) {
    (void)state;
    bp_settings_t s;
    bp_settings_defaults(&s);
    bp_error_t err;
    assert_int_equal(bp_settings_set(&s, "redis.password_file", "/run/secrets/redis", &err), 0);
    assert_int_equal(s.n_secret_files, 1);
    assert_string_equal(s.secret_file[0].key, "redis.password");
    assert_string_equal(s.secret_file[0].path, "/run/secrets/redis");
    assert_string_equal(s.redis_password, "");
    /* again: replaces, does not add */
    char *env[] = {"BP_REDIS_PASSWORD_FILE=/etc/bedpulse/redis.pass", NULL};
    assert_int_equal(bp_settings_apply_env(&s, env, NULL, &err), 0);
    assert_int_equal(s.n_secret_files, 1);
    assert_string_equal(s.secret_file[0].path, "/etc/bedpulse/redis.pass");
    /* not for settings that are not secrets */
    expect_set_error("redis.port_file", "/x", "unknown_setting", NULL);
    expect_set_error("redis.host_file", "/x", "unknown_setting", NULL);
    char *env2[] = {"BP_REDIS_HOST_FILE=/x", NULL};
    assert_int_equal(bp_settings_apply_env(&s, env2, NULL, &err), -1);
    assert_string_equal(err.code, "unknown_setting");
    /* a path, not a control character */
    expect_set_error("redis.password_file", "", "bad_setting", "redis.password_file");
    expect_set_error("redis.password_file", "a\nb", "bad_setting", "redis.password_file");
    /* the simulator's feed token is a secret too (BP_SIM_TOKEN_FILE) */
    char *env3[] = {"BP_SIM_TOKEN_FILE=/run/bedpulse/sim.token", NULL};
    assert_int_equal(bp_settings_apply_env(&s, env3, NULL, &err), 0);
    assert_int_equal(s.n_secret_files, 2);
    assert_string_equal(s.secret_file[1].key, "sim.token");
    char shown[16];
    assert_int_equal(bp_settings_set(&s, "sim.token", "bp_secret", &err), 0);
    assert_int_equal(bp_settings_get(&s, "sim.token", shown, sizeof shown), 0);
    assert_string_equal(shown, "***");
}

static void test_env_overrides(void **state) {
    (void)state;
    bp_settings_t s;
    bp_settings_defaults(&s);
    bp_error_t err;
    char *env[] = {"PATH=/usr/bin",
                   "BP_REDIS_PORT=6390",
                   "BP_REDIS_SENTINELS=127.0.0.1:26379,127.0.0.1:26380",
                   "BP_REDIS_MASTER_NAME=bp-test",
                   "BP_REDIS_MIN_REPLICAS_ACK=1",
                   "BP_PRESSURE_LEVEL2_PCT=80",
                   "BP_COLLECTOR_MAX_LINE_BYTES=2048",
                   "BP_SERVER_WEB_ROOT=/srv/web",
                   "BPX_REDIS_PORT=1", /* not ours */
                   "bp_redis_port=2",  /* not ours: lower case */
                   "BP_NO_EQUALS",     /* malformed: skipped */
                   NULL};
    int rc = bp_settings_apply_env(&s, env, NULL, &err);
    if (rc) fail_msg("%s: %s", err.field, err.message);
    assert_int_equal(s.redis_port, 6390);
    assert_string_equal(s.redis_sentinels, "127.0.0.1:26379,127.0.0.1:26380");
    assert_string_equal(s.redis_master_name, "bp-test");
    assert_int_equal(s.redis_min_replicas_ack, 1);
    assert_float_equal(s.pressure.level2_pct, 80, 0);
    assert_int_equal(s.collector_max_line_bytes, 2048);
    assert_string_equal(s.server_web_root, "/srv/web");
    /* later variables win */
    char *env2[] = {"BP_REDIS_PORT=1000", "BP_REDIS_PORT=1001", NULL};
    assert_int_equal(bp_settings_apply_env(&s, env2, NULL, &err), 0);
    assert_int_equal(s.redis_port, 1001);
    /* an empty or NULL environment changes nothing */
    char *none[] = {NULL};
    assert_int_equal(bp_settings_apply_env(&s, none, NULL, &err), 0);
    assert_int_equal(bp_settings_apply_env(&s, NULL, NULL, &err), 0);
    assert_int_equal(s.redis_port, 1001);
}

static void test_env_unknown_and_ignore(void **state) {
    (void)state;
    bp_settings_t s;
    bp_settings_defaults(&s);
    bp_error_t err;
    char *env[] = {"BP_REDIS_PROT=1", NULL};
    assert_int_equal(bp_settings_apply_env(&s, env, NULL, &err), -1);
    assert_string_equal(err.code, "unknown_setting");
    assert_string_equal(err.field, "BP_REDIS_PROT");
    assert_non_null(strstr(err.message, "BP_REDIS_PROT"));

    /* the same variable on the ignore list is skipped */
    const char *const ignore[] = {"BP_LOG_LEVEL", "BP_REDIS_PROT", NULL};
    char *env2[] = {"BP_REDIS_PROT=1", "BP_LOG_LEVEL=debug", "BP_REDIS_PORT=6390", NULL};
    assert_int_equal(bp_settings_apply_env(&s, env2, ignore, &err), 0);
    assert_int_equal(s.redis_port, 6390);
    /* ignore entries match whole names, not prefixes */
    const char *const short_ignore[] = {"BP_REDIS_PRO", NULL};
    assert_int_equal(bp_settings_apply_env(&s, env, short_ignore, &err), -1);
    /* an ignored name does not shadow a real setting */
    const char *const ig_port[] = {"BP_REDIS_PORT", NULL};
    char *env3[] = {"BP_REDIS_PORT=7000", NULL};
    assert_int_equal(bp_settings_apply_env(&s, env3, ig_port, &err), 0);
    assert_int_equal(s.redis_port, 6390);
    /* a known variable with a bad value names the setting */
    char *bad[] = {"BP_REDIS_PORT=abc", NULL};
    assert_int_equal(bp_settings_apply_env(&s, bad, NULL, &err), -1);
    assert_string_equal(err.code, "bad_setting");
    assert_string_equal(err.field, "redis.port");
    /* mixed case is not the variable's form */
    char *mixed[] = {"BP_Redis_Port=1", NULL};
    assert_int_equal(bp_settings_apply_env(&s, mixed, NULL, &err), -1);
    assert_string_equal(err.code, "unknown_setting");
    char *prefix_only[] = {"BP_REDIS=1", NULL};
    assert_int_equal(bp_settings_apply_env(&s, prefix_only, NULL, &err), -1);
}

static void test_check_thresholds(void **state) {
    (void)state;
    bp_settings_t s;
    bp_error_t err;
    bp_settings_defaults(&s);
    s.pressure.level2_pct = 95;
    s.pressure.level3_pct = 95;
    assert_int_equal(bp_settings_check(&s, &err), -1);
    assert_string_equal(err.code, "bad_setting");
    assert_string_equal(err.field, "pressure");
    assert_non_null(strstr(err.message, "level2_pct"));
    bp_settings_defaults(&s);
    s.pressure.level4_pct = 90;
    assert_int_equal(bp_settings_check(&s, &err), -1);
    bp_settings_defaults(&s);
    s.pressure.level3_pct = 110;
    assert_int_equal(bp_settings_check(&s, &err), -1);
    bp_settings_defaults(&s);
    s.pressure = (bp_pressure_cfg_t){50, 50.5, 51};
    assert_int_equal(bp_settings_check(&s, &err), 0);
    /* a client must be pinged before it can be dropped for silence */
    bp_settings_defaults(&s);
    s.server_ping_interval_s = 30;
    s.server_idle_timeout_s = 30;
    assert_int_equal(bp_settings_check(&s, &err), -1);
    assert_string_equal(err.field, "server.idle_timeout_s");
    assert_non_null(strstr(err.message, "server.ping_interval_s"));
    s.server_idle_timeout_s = 31;
    assert_int_equal(bp_settings_check(&s, &err), 0);
    /* the feed listener's certificate and key go together */
    bp_settings_defaults(&s);
    strcpy(s.collector_tls_cert, "/etc/bedpulse/feed.pem");
    assert_int_equal(bp_settings_check(&s, &err), -1);
    assert_string_equal(err.field, "collector.tls_cert");
    strcpy(s.collector_tls_key, "/etc/bedpulse/feed.key");
    assert_int_equal(bp_settings_check(&s, &err), 0);
    /* TLS does not make anonymous feeds acceptable off loopback */
    strcpy(s.collector_host, "0.0.0.0");
    s.collector_anonymous = 1;
    assert_int_equal(bp_settings_check(&s, &err), -1);
    assert_string_equal(err.field, "collector.anonymous");
    /* a WAIT for replicas must end before the link is taken for dead */
    bp_settings_defaults(&s);
    s.redis_min_replicas_ack = 1;
    s.redis_replica_ack_timeout_ms = 10000;
    assert_int_equal(bp_settings_check(&s, &err), -1);
    assert_string_equal(err.field, "redis.replica_ack_timeout_ms");
    assert_non_null(strstr(err.message, "redis.command_timeout_ms"));
    s.redis_replica_ack_timeout_ms = 9999;
    assert_int_equal(bp_settings_check(&s, &err), 0);
    s.redis_min_replicas_ack = 0; /* no WAIT: the timeout is not used */
    s.redis_replica_ack_timeout_ms = 60000;
    assert_int_equal(bp_settings_check(&s, &err), 0);
    /* a sentinel password without sentinels is a mistake */
    bp_settings_defaults(&s);
    snprintf(s.redis_sentinel_password, sizeof s.redis_sentinel_password, "x");
    assert_int_equal(bp_settings_check(&s, &err), -1);
    assert_string_equal(err.field, "redis.sentinel_password");
    snprintf(s.redis_sentinels, sizeof s.redis_sentinels, "127.0.0.1:26379");
    assert_int_equal(bp_settings_check(&s, &err), 0);
}

static int parse_settings(const char *json, bp_settings_t *s, bp_error_t *err) {
    bp_settings_defaults(s);
    memset(err, 0, sizeof *err);
    return bp_codec_parse_settings(json, strlen(json), s, err);
}

static void test_settings_file(void **state) {
    (void)state;
    size_t len;
    char *json = tu_read_file("config/settings.json", &len);
    bp_settings_t s, d;
    bp_settings_defaults(&s);
    bp_settings_defaults(&d);
    s.redis_port = 1; /* the file sets it back */
    s.pressure.level3_pct = 99;
    bp_error_t err;
    int rc = bp_codec_parse_settings(json, len, &s, &err);
    free(json);
    if (rc) fail_msg("%s at %s: %s", err.code, err.field, err.message);
    assert_int_equal(s.redis_port, 6379);
    assert_float_equal(s.pressure.level3_pct, 95, 0);
    assert_int_equal(s.collector_max_line_bytes, 65536);
    assert_int_equal(s.server_max_clients, 20000);
    assert_string_equal(s.config_fleet, "config/fleet.json");
    assert_int_equal(bp_settings_check(&s, &err), 0);
    /* the shipped file holds the built-in defaults */
    assert_memory_equal(&s, &d, sizeof s);
}

static void test_settings_file_values(void **state) {
    (void)state;
    bp_settings_t s;
    bp_error_t err;
    assert_int_equal(parse_settings("{\"note\":\"x\",\"redis\":{\"port\":6390,\"host\":\"db\"},"
                                    "\"pressure\":{\"level2_pct\":80.5}}",
                                    &s, &err),
                     0);
    assert_int_equal(s.redis_port, 6390);
    assert_string_equal(s.redis_host, "db");
    assert_float_equal(s.pressure.level2_pct, 80.5, 0);
    assert_int_equal(s.collector_port, 7070); /* untouched */
    assert_int_equal(parse_settings("{}", &s, &err), 0);
}

static void expect_file_error(const char *json, const char *code, const char *field) {
    bp_settings_t s;
    bp_error_t err;
    if (parse_settings(json, &s, &err) == 0) fail_msg("accepted %s", json);
    assert_string_equal(err.code, code);
    assert_string_equal(err.field, field);
}

static void test_settings_file_errors(void **state) {
    (void)state;
    expect_file_error("{\"redis\":{\"prot\":1}}", "unknown_setting", "redis.prot");
    expect_file_error("{\"redis\":{\"port\":6379},\"colector\":{\"port\":1}}", "unknown_setting",
                      "colector.port");
    expect_file_error("{\"redis\":{\"port\":true}}", "wrong_type", "redis.port");
    expect_file_error("{\"redis\":{\"port\":null}}", "wrong_type", "redis.port");
    expect_file_error("{\"redis\":{\"port\":1.5}}", "bad_setting", "redis.port");
    expect_file_error("{\"redis\":{\"port\":70000}}", "bad_setting", "redis.port");
    expect_file_error("{\"redis\":{\"port\":\"6379\"}, \"server\":{\"port\":-1}}", "bad_setting",
                      "server.port");
    expect_file_error("{\"redis\":1}", "wrong_type", "redis");
    expect_file_error("{\"note\":{\"a\":1}}", "unknown_setting", "note.a");
    expect_file_error("[]", "wrong_type", "");
    expect_file_error("", "bad_json", "");
    expect_file_error("{\"redis\":{\"port\":6379}", "bad_json", "");
    expect_file_error("{} {}", "bad_json", "");
}

/* A string longer than its setting allows is refused whole, never cut to
 * fit: an origins list cut at 255 bytes would allow a different origin
 * (found by fuzz_config). */
static void test_settings_file_long_values(void **state) {
    (void)state;
    char json[1024], origins[300];
    memset(origins, 'a', sizeof origins);
    memcpy(origins, "https://", 8);
    origins[sizeof origins - 1] = '\0';
    snprintf(json, sizeof json, "{\"server\":{\"allowed_origins\":\"%s\"}}", origins);
    expect_file_error(json, "bad_setting", "server.allowed_origins");
    origins[255] = '\0'; /* 255 bytes: the most it may hold */
    snprintf(json, sizeof json, "{\"server\":{\"allowed_origins\":\"%s\"}}", origins);
    bp_settings_t s;
    bp_error_t err;
    assert_int_equal(parse_settings(json, &s, &err), 0);
    assert_string_equal(s.server_allowed_origins, origins);
    /* numbers longer than any setting: refused by their rule as before */
    char digits[400];
    memset(digits, '1', sizeof digits);
    digits[sizeof digits - 1] = '\0';
    snprintf(json, sizeof json, "{\"redis\":{\"port\":\"%s\"}}", digits);
    expect_file_error(json, "bad_setting", "redis.port");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_set_good_values),
        cmocka_unit_test(test_set_bad_values),
        cmocka_unit_test(test_set_unknown_key),
        cmocka_unit_test(test_get_and_key_table),
        cmocka_unit_test(test_lookup_index),
        cmocka_unit_test(test_secret_files),
        cmocka_unit_test(test_env_overrides),
        cmocka_unit_test(test_env_unknown_and_ignore),
        cmocka_unit_test(test_check_thresholds),
        cmocka_unit_test(test_settings_file),
        cmocka_unit_test(test_settings_file_values),
        cmocka_unit_test(test_settings_file_errors),
        cmocka_unit_test(test_settings_file_long_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

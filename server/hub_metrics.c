/* The hub's metrics (see hub_metrics.h). */
#include "hub_metrics.h"

/* Fan-out time: from a batch's arrival until every client that was live then
 * has it. One measurement at a time (a sample per batch while idle). */
static const double fanout_bounds[] = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05,
                                       0.1,    0.2,   0.5,   1,     2,    5};
#define FANOUT_BUCKETS (sizeof fanout_bounds / sizeof *fanout_bounds)

_Static_assert(FANOUT_BUCKETS == BP_FANOUT_BUCKETS, "fan-out histogram bounds");

void bp_hub_stats_fanout(bp_hub_stats_t *s, uint64_t ns) {
    double sec = (double)ns / 1e9;
    size_t i = 0;
    while (i < FANOUT_BUCKETS && sec > fanout_bounds[i])
        i++;
    s->fanout_counts[i]++;
    s->fanout_sum += sec;
    s->fanout_n++;
}

void bp_hub_stats_write(const bp_hub_stats_t *s, const bp_hub_gauges_t *g, bp_buf_t *o) {
#define C(name, help, v)                                                                           \
    bp_buf_printf(o,                                                                               \
                  "# HELP bedpulse_" name " " help "\n# TYPE bedpulse_" name " counter\n"          \
                  "bedpulse_" name " %llu\n",                                                      \
                  (unsigned long long)(v))
#define G(name, help, v)                                                                           \
    bp_buf_printf(o,                                                                               \
                  "# HELP bedpulse_" name " " help "\n# TYPE bedpulse_" name " gauge\n"            \
                  "bedpulse_" name " %llu\n",                                                      \
                  (unsigned long long)(v))
    G("ws_clients", "WebSocket clients connected now.", g->clients);
    C("ws_connections_total", "WebSocket connections accepted.", s->connections);
    C("events_in_total", "Events read from the Redis stream.", s->events_in);
    C("event_deliveries_total", "Events delivered to clients (one per client per event).",
      s->event_deliveries);
    C("ws_frames_total", "WebSocket frames written.", s->frames);
    C("ws_bytes_total", "WebSocket payload bytes written.", s->bytes);
    C("ws_coalesced_frames_total", "Frames that carried several events.", s->coalesced);
    C("snapshots_built_total", "Snapshots serialized.", s->snaps.built);
    C("snapshots_sent_total", "Snapshots sent to clients.", s->snapshots_sent);
    C("snapshots_gzipped_total",
      "Snapshots gzipped (once each, for the clients that take them so).", s->snaps.gzipped);
    C("skip_to_latest_total", "Clients that fell out of the ring and got a fresh snapshot.",
      s->skips);
    C("ws_closed_slow_total", "Clients closed for not keeping up.", s->closed_slow);
    C("ws_closed_hello_total", "Clients closed for not saying hello in time.", s->closed_hello);
    C("ws_closed_protocol_total", "Clients closed for protocol errors.", s->closed_protocol);
    C("ws_closed_silent_total", "Clients closed for not answering pings.", s->closed_silent);
    C("ticks_total", "Heartbeat ticks sent.", s->ticks);
    C("alert_frames_total", "Alert lists sent to clients.", s->bcast_frames[BP_BCAST_ALERTS]);
    C("recommendation_frames_total", "Incident recommendation lists sent to clients.",
      s->bcast_frames[BP_BCAST_RECOMMEND]);
    C("offload_frames_total", "Offload-delayed lists sent to clients.",
      s->bcast_frames[BP_BCAST_OFFLOAD]);
    C("status_frames_total", "Status messages (stale / live) sent to clients.",
      s->bcast_frames[BP_BCAST_STATUS]);
    G("stale", "Whether clients were told their data is not followed from Redis (1) or not (0).",
      g->stale);
    bp_buf_printf(o,
                  "# HELP bedpulse_resume_total Client starts by outcome.\n"
                  "# TYPE bedpulse_resume_total counter\n"
                  "bedpulse_resume_total{outcome=\"window\"} %llu\n"
                  "bedpulse_resume_total{outcome=\"stream\"} %llu\n"
                  "bedpulse_resume_total{outcome=\"snapshot_new\"} %llu\n"
                  "bedpulse_resume_total{outcome=\"snapshot_epoch\"} %llu\n"
                  "bedpulse_resume_total{outcome=\"snapshot_too_old\"} %llu\n",
                  (unsigned long long)s->resume_window, (unsigned long long)s->resume_stream,
                  (unsigned long long)s->resume_snapshot_new,
                  (unsigned long long)s->resume_snapshot_epoch,
                  (unsigned long long)s->resume_snapshot_old);
    G("ring_events", "Events held in the ring (each audience's ring holds the same offsets).",
      g->ring_events);
    G("ring_bytes", "Bytes held in the rings of all audiences.", g->ring_bytes);
    G("offset", "Last offset applied.", g->offset);
    C("ws_rejected_full_total", "Connections closed with 1013: max_clients reached.",
      s->rejected_full);
    C("ws_rejected_address_total", "Connections closed with 4029: max_clients_per_ip reached.",
      s->rejected_ip);
    C("ws_rejected_origin_total", "Upgrades refused: Origin not this site nor allowed.",
      s->rejected_origin);
    C("ws_closed_unauthorized_total", "Clients closed with 4401 at hello: no valid credentials.",
      s->closed_unauthorized);
    C("ws_closed_forbidden_total", "Clients closed with 4403: role may not have the live feed.",
      s->closed_forbidden);
    C("ws_closed_expired_total",
      "Clients closed with 4401 later: token revoked or expired, session ended.",
      s->closed_expired);
    G("resumes_from_stream_pending", "Stream resumes waiting for Redis.", g->ranges_pending);
    bp_buf_puts(o, "# HELP bedpulse_fanout_seconds Time from a batch of events arriving until "
                   "every live client has it.\n# TYPE bedpulse_fanout_seconds histogram\n");
    uint64_t cum = 0;
    for (size_t i = 0; i < FANOUT_BUCKETS; i++) {
        cum += s->fanout_counts[i];
        bp_buf_printf(o, "bedpulse_fanout_seconds_bucket{le=\"%g\"} %llu\n", fanout_bounds[i],
                      (unsigned long long)cum);
    }
    cum += s->fanout_counts[FANOUT_BUCKETS];
    bp_buf_printf(o,
                  "bedpulse_fanout_seconds_bucket{le=\"+Inf\"} %llu\n"
                  "bedpulse_fanout_seconds_sum %.6f\nbedpulse_fanout_seconds_count %llu\n",
                  (unsigned long long)cum, s->fanout_sum, (unsigned long long)s->fanout_n);
#undef C
#undef G
}

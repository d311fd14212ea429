/*
 * Who may listen to the live feed (see hub_parts.h): the rights of a
 * connection's credential, judged by the one credential check
 * (bp_tokens_check; the credential is read in hub.c at the upgrade or the
 * hello) and turned into WebSocket close codes, its audience and
 * hospitals; and how many connections each address holds.
 */
#include "hub_parts.h"

#include <stdlib.h>
#include <string.h>

/* -- who may listen ------------------------------------------------------------------- */

/* Sets the hospitals a client's snapshots hold (NULL: all). 1 when that
 * changed, 0 when not, -1 when out of memory. */
static int set_only(client_t *c, const uint64_t *scope) {
    size_t size = BP_REGISTRY_MAX / 64 * sizeof(uint64_t);
    if (!scope || !c->only) {
        if (!scope && !c->only) return 0;
        free(c->only);
        c->only = scope ? malloc(size) : NULL;
        if (scope && !c->only) return -1;
    } else if (memcmp(c->only, scope, size) == 0) {
        return 0;
    }
    if (scope) memcpy(c->only, scope, size);
    return 1;
}

int bp_hub_authorize(bp_hub_t *h, client_t *c, int64_t now) {
    const bp_principal_t *p;
    const char *why = NULL;
    uint16_t code = 4401;
    switch (bp_tokens_check(h->tokens, &c->auth, now, &p)) {
    case BP_CRED_LOADING: code = 1013, why = "auth loading"; break;
    case BP_CRED_NOT_VALID:
    case BP_CRED_ENDED: why = "unauthorized"; break;
    case BP_CRED_GONE:
    case BP_CRED_REVOKED: why = "revoked"; break;
    case BP_CRED_EXPIRED:
    case BP_CRED_SESSION_ENDED: why = "expired"; break;
    case BP_CRED_ANONYMOUS:
    case BP_CRED_VALID: break;
    }
    if (!why && !bp_auth_allows(p, h->anon_role, BP_ACT_LIVE, -1, now)) {
        why = p ? "forbidden" : "unauthorized";
        if (p) code = 4403;
    }
    c->auth_gen = h->tokens ? bp_tokens_generation(h->tokens) : 0;
    if (why) {
        if (code == 4403)
            h->st.closed_forbidden++;
        else if (code == 4401 && c->state != C_HELLO)
            h->st.closed_expired++;
        else if (code == 4401)
            h->st.closed_unauthorized++;
        hub_close_with(c, code, why);
        return -1;
    }
    bp_audience_t aud =
        bp_role_audience(p ? p->role : (bp_role_t)(h->anon_role < 0 ? 0 : h->anon_role));
    if (c->state != C_HELLO && aud != c->aud) {
        /* its role changed under it: what it holds may be more than it may see */
        hub_close_with(c, 4401, "role changed");
        return -1;
    }
    c->aud = (uint8_t)aud;
    int changed = set_only(c, aud == BP_AUD_HOSPITALS && p && !p->all_hospitals ? p->scope : NULL);
    if (changed < 0) {
        hub_close_with(c, 1011, "no memory");
        return -1;
    }
    if (changed && c->state == C_ACTIVE && !c->need_snapshot) {
        /* her hospitals changed under her: what she holds is not what she may see */
        c->need_snapshot = true;
        snprintf(c->reason, sizeof c->reason, "scope");
    }
    return 0;
}

/* -- per-address counts ------------------------------------------------------ */

static ip_node_t **ip_slot(bp_hub_t *h, const char *ip) {
    uint32_t x = 2166136261u; /* FNV-1a */
    for (const char *p = ip; *p; p++)
        x = (x ^ (unsigned char)*p) * 16777619u;
    ip_node_t **n = &h->ips[x % IP_BUCKETS];
    while (*n && strcmp((*n)->ip, ip) != 0)
        n = &(*n)->next;
    return n;
}

uint32_t bp_hub_ip_count(bp_hub_t *h, const char *ip) {
    ip_node_t *n = *ip_slot(h, ip);
    return n ? n->count : 0;
}

int bp_hub_ip_add(bp_hub_t *h, const char *ip) {
    ip_node_t **slot = ip_slot(h, ip);
    if (!*slot) {
        ip_node_t *n = calloc(1, sizeof *n);
        if (!n) return -1;
        snprintf(n->ip, sizeof n->ip, "%s", ip);
        *slot = n;
    }
    (*slot)->count++;
    return 0;
}

void bp_hub_ip_remove(bp_hub_t *h, const char *ip) {
    ip_node_t **slot = ip_slot(h, ip);
    ip_node_t *n = *slot;
    if (!n || --n->count) return;
    *slot = n->next;
    free(n);
}

void bp_hub_ips_free(bp_hub_t *h) {
    for (size_t i = 0; i < IP_BUCKETS; i++) {
        while (h->ips[i]) {
            ip_node_t *n = h->ips[i];
            h->ips[i] = n->next;
            free(n);
        }
    }
}

/* Redis key names. */
#include "bp_keys.h"

#include <stdio.h>

void bp_keys_init(bp_keys_t *k, const char *prefix) {
    snprintf(k->epoch, sizeof k->epoch, "%.32sepoch", prefix);
    snprintf(k->offset, sizeof k->offset, "%.32soffset", prefix);
    snprintf(k->stream, sizeof k->stream, "%.32sstream", prefix);
    snprintf(k->sources, sizeof k->sources, "%.32ssources", prefix);
    snprintf(k->decided, sizeof k->decided, "%.32sdecided", prefix);
    snprintf(k->audit, sizeof k->audit, "%.32saudit", prefix);
    snprintf(k->hospital, sizeof k->hospital, "%.32sh:", prefix);
    snprintf(k->ambulance, sizeof k->ambulance, "%.32sa:", prefix);
    snprintf(k->incident, sizeof k->incident, "%.32sinc:", prefix);
    snprintf(k->incidents, sizeof k->incidents, "%.32sincidents", prefix);
}

void bp_keys_entity(const bp_keys_t *k, bp_kind_t kind, const char *id, char *out, size_t len) {
    const char *head = kind == BP_KIND_HOSPITAL    ? k->hospital
                       : kind == BP_KIND_AMBULANCE ? k->ambulance
                                                   : k->incident;
    snprintf(out, len, "%s%.64s", head, id);
}

/* Redis key names. */
#include "bp_keys.h"

#include <stdio.h>

void bp_keys_init(bp_keys_t *k, const char *prefix) {
    snprintf(k->epoch, sizeof k->epoch, "%.32sepoch", prefix);
    snprintf(k->offset, sizeof k->offset, "%.32soffset", prefix);
    snprintf(k->stream, sizeof k->stream, "%.32sstream", prefix);
    snprintf(k->hospitals, sizeof k->hospitals, "%.32shospitals", prefix);
    snprintf(k->ambulances, sizeof k->ambulances, "%.32sambulances", prefix);
    snprintf(k->sources, sizeof k->sources, "%.32ssources", prefix);
}

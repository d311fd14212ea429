/*
 * gzip (zlib) and brotli one-shot compression of whole responses, and the
 * check that compressed bytes decode to exactly the original (for files
 * precompressed at build time). Pure computation: no I/O.
 */
#ifndef BP_COMPRESS_H
#define BP_COMPRESS_H

#include "bp_conneg.h"

#include <stdbool.h>
#include <stddef.h>

/* Compresses in[0..len) with coding e (gzip: level 1-9; brotli: quality
 * 0-11). 0 with *out allocated (the caller frees it) and *out_len set; -1
 * on failure (out of memory, e identity). An empty input compresses too. */
int bp_compress(bp_encoding_t e, int level, const void *in, size_t len, unsigned char **out,
                size_t *out_len);

/* Whether data[0..len), in coding e, decodes to exactly raw[0..raw_len). */
bool bp_compress_check(bp_encoding_t e, const void *data, size_t len, const void *raw,
                       size_t raw_len);

#endif

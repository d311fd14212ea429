/*
 * libFuzzer harness for everything a live-feed client sends the hub: the
 * input is a stream of WebSocket frames, each a flags byte (bit 0 binary,
 * bit 1 final), a length byte (a third of the frames take a second one)
 * and that many payload bytes. It plays them through bp_wsclient the way
 * server/hub.c does, buffering fragments in a BP_WSCLIENT_MSG_MAX buffer,
 * and checks that the buffer never overflows, that each verdict is the one
 * the protocol says (docs/protocol.md: 1003, 4009, 4002), that a client
 * gets one hello, and that an accepted hello reads back the same.
 */
#include "bp_wsclient.h"
#include "fuzz_util.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    static char rx[BP_WSCLIENT_MSG_MAX];
    size_t rx_len = 0, pos = 0;
    bool hello_done = false;
    while (pos + 2 <= size) {
        unsigned flags = data[pos];
        size_t len = data[pos + 1];
        pos += 2;
        if (flags % 3 == 2 && pos < size) len = len << 8 | data[pos++];
        if (len > size - pos) len = size - pos;
        bool binary = flags & 1, final = flags & 2;
        const char *payload = (const char *)data + pos;
        pos += len;

        bp_wsclient_verdict_t v = bp_wsclient_frame(binary, rx_len, len);
        if (v != BP_WSC_OK) {
            bp_wsclient_verdict_t want = binary                               ? BP_WSC_BINARY
                                         : rx_len + len > BP_WSCLIENT_MSG_MAX ? BP_WSC_TOO_BIG
                                                                              : BP_WSC_OK;
            if (v != want) abort();
            uint16_t code = bp_wsclient_close_code(v);
            if (code != (binary ? 1003 : 4009) || !bp_wsclient_reason(v)[0]) abort();
            return 0; /* the hub closes the client */
        }
        if (binary || rx_len + len > BP_WSCLIENT_MSG_MAX) abort();
        memcpy(rx + rx_len, payload, len);
        rx_len += len;
        if (!final) continue;

        bp_hello_t h;
        bp_error_t err;
        memset(&err, 0xa5, sizeof err);
        v = bp_wsclient_message(rx, rx_len, hello_done, &h, &err);
        /* the same bytes through the parser alone */
        bp_hello_t h2;
        bp_error_t err2;
        bool parses = bp_codec_parse_hello(rx, rx_len, &h2, &err2) == 0;
        rx_len = 0;
        switch (v) {
        case BP_WSC_OK:
            if (hello_done || !parses) abort();
            fz_check_hello(&h);
            if (memcmp(&h, &h2, sizeof h) != 0) abort();
            hello_done = true;
            break;
        case BP_WSC_SECOND_HELLO:
            if (!hello_done || !parses) abort();
            fz_check_hello(&h);
            break;
        case BP_WSC_BAD_HELLO:
            if (parses) abort();
            fz_check_error(&err);
            if (strcmp(err.code, err2.code) != 0 || strcmp(err.message, err2.message) != 0) abort();
            break;
        default: abort();
        }
        if (v != BP_WSC_OK) {
            if (bp_wsclient_close_code(v) != 4002 || !bp_wsclient_reason(v)[0]) abort();
            return 0; /* closed */
        }
    }
    return 0;
}

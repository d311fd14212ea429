/* What a live-feed client may send (see bp_wsclient.h). */
#include "bp_wsclient.h"

bp_wsclient_verdict_t bp_wsclient_frame(bool binary, size_t have, size_t len) {
    if (binary) return BP_WSC_BINARY;
    /* have is at most the bound (the caller kept only frames that fit) */
    if (have > BP_WSCLIENT_MSG_MAX || len > BP_WSCLIENT_MSG_MAX - have) return BP_WSC_TOO_BIG;
    return BP_WSC_OK;
}

bp_wsclient_verdict_t bp_wsclient_message(const char *msg, size_t len, bool hello_done,
                                          bp_hello_t *hello, bp_error_t *err) {
    /* a bad message is a bad hello even after the hello: the parser's
     * reason is the more useful one */
    if (bp_codec_parse_hello(msg, len, hello, err)) return BP_WSC_BAD_HELLO;
    return hello_done ? BP_WSC_SECOND_HELLO : BP_WSC_OK;
}

uint16_t bp_wsclient_close_code(bp_wsclient_verdict_t v) {
    switch (v) {
    case BP_WSC_BINARY: return 1003;
    case BP_WSC_TOO_BIG: return 4009;
    case BP_WSC_BAD_HELLO:
    case BP_WSC_SECOND_HELLO: return 4002;
    default: return 0;
    }
}

const char *bp_wsclient_reason(bp_wsclient_verdict_t v) {
    switch (v) {
    case BP_WSC_BINARY: return "text only";
    case BP_WSC_TOO_BIG: return "message too big";
    case BP_WSC_BAD_HELLO: return "bad hello";
    case BP_WSC_SECOND_HELLO: return "one hello only";
    default: return "";
    }
}

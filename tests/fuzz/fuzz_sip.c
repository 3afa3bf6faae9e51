/* fuzz_sip: libFuzzer target for hetki-phone's SIP message handling (ph_sip: libosip2 parsing,
 * the header checks, the 400 for what cannot be parsed, the flood limits, transactions and
 * response building). Every input is fed as one received datagram; requests that start a
 * transaction are answered (a provisional and a final response built from the fuzzed request,
 * and a request built from its URIs), so building from hostile input is exercised too. The
 * layer is recreated for every input, so no state leaks between inputs. Never crashes, leaks
 * or trips ASan/UBSan when ph_sip is correct. */
#include "ph_sip.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void s_on_request(ph_sip_t *sip, osip_transaction_t *tr, osip_message_t *req,
                         const ph_peer_t *from, void *arg) {
    (void)from;
    (void)arg;
    if (!tr) {
        return; /* ACK outside a transaction */
    }
    ph_sip_respond(sip, tr, 100, NULL, NULL, NULL, NULL, NULL);
    char *uri = NULL;
    if (req->req_uri && osip_uri_to_str(req->req_uri, &uri) == 0 && uri) {
        /* A request towards what the message named: the builder must cope with any URI. */
        osip_message_t *m =
            ph_sip_request(sip, "OPTIONS", uri, "<sip:fuzz@127.0.0.1>", "ft",
                           "<sip:peer@127.0.0.1>", NULL, "fuzz-call", 1, &req->record_routes);
        if (m) {
            char *text = NULL;
            size_t len = 0;
            if (osip_message_to_str(m, &text, &len) == 0) {
                osip_free(text);
            }
            osip_message_free(m);
        }
        osip_free(uri);
    }
    ph_sip_respond(sip, tr, strcmp(req->sip_method, "INVITE") == 0 ? 486 : 200, "totag",
                   "application/sdp", "v=0\r\n", "Retry-After", "5");
}

static void s_on_response(ph_sip_t *sip, osip_transaction_t *tr, void *owner, osip_message_t *resp,
                          void *arg) {
    (void)sip;
    (void)tr;
    (void)owner;
    (void)resp;
    (void)arg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 65535) {
        return 0; /* the transport never delivers more */
    }
    ph_flood_t *flood = ph_flood_new(1000000.0, 1000000.0, 1000000, 1, "");
    ph_sip_handlers_t h = {.on_request = s_on_request, .on_response = s_on_response};
    ph_sip_t *sip = ph_sip_new(NULL, NULL, flood, "127.0.0.1", 5060, &h, NULL);
    if (!sip) {
        abort();
    }
    ph_peer_t peer;
    if (ph_transport_peer_udp(&peer, "127.0.0.1", 5062) != 0) {
        abort();
    }
    /* The transport hands over exactly the bytes received (not NUL terminated). */
    char *copy = malloc(size ? size : 1);
    if (!copy) {
        abort();
    }
    memcpy(copy, data, size);
    ph_sip_input(sip, copy, size, &peer);
    ph_sip_input(sip, copy, size, &peer); /* a retransmission: matched to its transaction */
    free(copy);
    ph_sip_destroy(&sip);
    ph_flood_destroy(&flood);
    return 0;
}

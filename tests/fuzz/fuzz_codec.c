/* fuzz_codec: libFuzzer target for hk_codec. Any input is decoded; an accepted envelope is
 * re-encoded, decoded again and encoded once more, and the two encodings must be identical.
 * Every rejection must carry a reason. Never crashes, leaks or trips ASan/UBSan when hk_codec
 * is correct; a violated property aborts so the fuzzer records the input. */
#include "hk_codec.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How much a decoded frame may grow when re-encoded (negative int32/enum values take ten bytes
 * whatever their input length); only frames this close to the limit may fail to re-encode. */
#define S_GROWTH_SLACK 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void s_fail(const char *what, const char *detail) {
    fprintf(stderr, "fuzz_codec: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[256] = "";
    hk_envelope_t *env = hk_codec_decode(data, size, err, sizeof err);
    if (!env) {
        if (err[0] == '\0') {
            s_fail("rejection without a reason", NULL);
        }
        return 0;
    }
    uint8_t *first = NULL, *second = NULL;
    size_t first_len = 0, second_len = 0;
    hk_envelope_t *again = NULL;
    if (hk_codec_encode(env, &first, &first_len) != 0) {
        if (size + S_GROWTH_SLACK <= HK_CODEC_MAX_FRAME) {
            s_fail("an accepted small frame does not re-encode", NULL);
        }
        goto cleanup;
    }
    again = hk_codec_decode(first, first_len, err, sizeof err);
    if (!again) {
        s_fail("the re-encoding of an accepted frame is rejected", err);
    }
    if (hk_codec_encode(again, &second, &second_len) != 0) {
        s_fail("a re-decoded envelope does not encode", NULL);
    }
    if (first_len != second_len || memcmp(first, second, first_len) != 0) {
        s_fail("encode(decode(encode(x))) differs from encode(x)", NULL);
    }
cleanup:
    free(first);
    free(second);
    hk_codec_free(&again);
    hk_codec_free(&env);
    return 0;
}

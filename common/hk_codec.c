/* hk_codec: encoding and strict decoding of bus Envelopes (the only protobuf-c caller). */
#include "hk_codec.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int hk_utf8_valid(const char *text, size_t len) {
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t n;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            n = 1;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (i + n >= len) {
            return 0;
        }
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80) {
                return 0;
            }
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            return 0;
        }
        i += n + 1;
    }
    return 1;
}

/* Walks a decoded message: unknown fields anywhere, or non-UTF-8 strings, are refused. */
static int s_check(const ProtobufCMessage *msg, int depth, char *err, size_t errlen) {
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    if (depth > 8) {
        snprintf(err, errlen, "message nesting too deep");
        return -1;
    }
    if (msg->n_unknown_fields > 0) {
        snprintf(err, errlen, "unknown field %u in %s", msg->unknown_fields[0].tag, d->name);
        return -1;
    }
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const char *base = (const char *)msg;
        if (f->type != PROTOBUF_C_TYPE_MESSAGE && f->type != PROTOBUF_C_TYPE_STRING) {
            continue; /* scalars and bytes need no walk */
        }
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            uint32_t which = *(const uint32_t *)(base + f->quantifier_offset);
            if (which != f->id) {
                continue;
            }
        }
        size_t count = 1;
        const void *const *items = (const void *const *)(base + f->offset);
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            count = *(const size_t *)(base + f->quantifier_offset);
            items = *(const void *const *const *)(base + f->offset);
        }
        for (size_t k = 0; k < count; k++) {
            const void *item = items[k];
            if (!item) {
                continue;
            }
            if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
                if (s_check(item, depth + 1, err, errlen) != 0) {
                    return -1;
                }
            } else if (f->type == PROTOBUF_C_TYPE_STRING) {
                if (!hk_utf8_valid(item, strlen(item))) {
                    snprintf(err, errlen, "field %s.%s is not valid UTF-8", d->name, f->name);
                    return -1;
                }
            }
        }
    }
    return 0;
}

hk_envelope_t *hk_codec_decode(const uint8_t *data, size_t len, char *err, size_t errlen) {
    if (len > HK_CODEC_MAX_FRAME) {
        snprintf(err, errlen, "frame of %zu bytes exceeds the limit of %d", len,
                 HK_CODEC_MAX_FRAME);
        return NULL;
    }
    if (len == 0) {
        snprintf(err, errlen, "empty frame");
        return NULL;
    }
    hk_envelope_t *env = hetki__v1__envelope__unpack(NULL, len, data);
    if (!env) {
        snprintf(err, errlen, "malformed protobuf envelope");
        return NULL;
    }
    if (s_check(&env->base, 0, err, errlen) != 0) {
        goto reject;
    }
    if (env->version != HK_CODEC_VERSION) {
        snprintf(err, errlen, "unsupported envelope version %u (expected %d)", env->version,
                 HK_CODEC_VERSION);
        goto reject;
    }
    if (env->body_case == HETKI__V1__ENVELOPE__BODY__NOT_SET) {
        snprintf(err, errlen, "envelope has no body");
        goto reject;
    }
    return env;
reject:
    hetki__v1__envelope__free_unpacked(env, NULL);
    return NULL;
}

void hk_codec_free(hk_envelope_t **env_p) {
    assert(env_p);
    if (*env_p) {
        hetki__v1__envelope__free_unpacked(*env_p, NULL);
        *env_p = NULL;
    }
}

size_t hk_codec_encode_to(const hk_envelope_t *env, uint8_t *buf, size_t cap) {
    size_t need = hetki__v1__envelope__get_packed_size(env);
    if (need > cap || need > HK_CODEC_MAX_FRAME) {
        return 0;
    }
    return hetki__v1__envelope__pack(env, buf);
}

int hk_codec_encode(const hk_envelope_t *env, uint8_t **out, size_t *len) {
    size_t need = hetki__v1__envelope__get_packed_size(env);
    if (need > HK_CODEC_MAX_FRAME) {
        return -1;
    }
    uint8_t *buf = malloc(need ? need : 1);
    assert(buf);
    *len = hetki__v1__envelope__pack(env, buf);
    *out = buf;
    return 0;
}

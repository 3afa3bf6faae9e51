/* hk_codec: the only module that calls protobuf-c. Encodes and decodes bus Envelopes and
 * refuses what must not pass: oversize frames, malformed bytes, unknown fields (at any
 * depth), text that is not UTF-8, a wrong version or an empty body. */
#ifndef HK_CODEC_H
#define HK_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "hetki/v1/envelope.pb-c.h"

#define HK_CODEC_VERSION 1
#define HK_CODEC_MAX_FRAME (64 * 1024)

typedef Hetki__V1__Envelope hk_envelope_t;

/* Decodes one frame. Returns the envelope (free with hk_codec_free), or NULL with a
 * one-line reason in err. Never keeps a pointer to data. */
hk_envelope_t *hk_codec_decode(const uint8_t *data, size_t len, char *err, size_t errlen);

/* Frees a decoded envelope and nulls the caller's pointer. */
void hk_codec_free(hk_envelope_t **env_p);

/* Encodes env (version and sent_at are the caller's) into a new buffer the caller frees.
 * Returns 0, or -1 when the result would exceed HK_CODEC_MAX_FRAME. */
int hk_codec_encode(const hk_envelope_t *env, uint8_t **out, size_t *len);

/* Encodes into a caller buffer of cap bytes; returns the length, or 0 when it does not fit. */
size_t hk_codec_encode_to(const hk_envelope_t *env, uint8_t *buf, size_t cap);

/* True when text is well-formed UTF-8 (no overlongs, surrogates or values > U+10FFFF). */
int hk_utf8_valid(const char *text, size_t len);

#endif

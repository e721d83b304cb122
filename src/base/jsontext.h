/* jsontext: JSON string literals written by hand, for files written one
 * element at a time (run.json, the durations artifact) where building a
 * cJSON tree per element would cost more than the element.
 *
 * '"', '\\' and control characters are escaped; other bytes are copied. With
 * `valid_utf8`, a byte that does not start a valid UTF-8 sequence (overlong
 * forms and surrogates included) becomes U+FFFD, for files other tools parse
 * strictly; without it the bytes are kept as they came, for our own files,
 * where a node id must survive byte for byte. */
#ifndef TEP_JSONTEXT_H
#define TEP_JSONTEXT_H
#include <stdbool.h>
#include <stddef.h>
#include "base/buf.h"

typedef enum {
    JSONTEXT_OK,
    JSONTEXT_BAD, /* not a complete JSON string literal */
    JSONTEXT_NUL  /* held \u0000, which no C string (nor pytest's argv) can carry */
} jsontext_decoded_t;

/* Appends s as a JSON string literal, quotes included. */
void jsontext_put_string(buf_t *b, const char *s, bool valid_utf8);
/* Length of the valid UTF-8 sequence s starts with (1 to 4 bytes), or 0 when
 * it does not start one (overlong forms, surrogates and code points past
 * U+10FFFF are not valid). s is NUL-terminated: a NUL ends any sequence. */
size_t jsontext_utf8_len(const char *s);

/* Decodes the JSON string literal at lit (len bytes, quotes included) and
 * appends its bytes and a NUL to out. Python's json module writes a file
 * name's undecodable byte 0xXX (os.fsdecode's surrogateescape) as the lone
 * surrogate \udcXX (XX >= 80): it comes back as that very byte, so a node id
 * survives byte for byte; any other lone surrogate becomes U+FFFD, and bytes
 * outside escapes are copied as they are. JSONTEXT_NUL: decoded, each \u0000
 * made U+FFFD (a caller that needs the exact bytes refuses it). JSONTEXT_BAD:
 * out holds what it held before. */
jsontext_decoded_t jsontext_decode(const char *lit, size_t len, buf_t *out);

#endif

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
#include "buf.h"

/* Appends s as a JSON string literal, quotes included. */
void jsontext_put_string(buf_t *b, const char *s, bool valid_utf8);
/* Length of the valid UTF-8 sequence s starts with (1 to 4 bytes), or 0 when
 * it does not start one (overlong forms, surrogates and code points past
 * U+10FFFF are not valid). s is NUL-terminated: a NUL ends any sequence. */
size_t jsontext_utf8_len(const char *s);

#endif

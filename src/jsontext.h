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
#include "buf.h"

void json_put_string(buf_t *b, const char *s, bool valid_utf8);

#endif

/* text: untrusted and user-facing text, kept short and whole.
 *
 * Text from outside (a failure message, an XML attribute, a server answer)
 * can be any size and any bytes. These helpers cut it without splitting a
 * UTF-8 character, say when and how much they cut, make it printable on one
 * line, and trim it. They allocate through buf.h, so they never fail. */
#ifndef TEP_TEXT_H
#define TEP_TEXT_H
#include "base/buf.h"
#include <stdbool.h>
#include <stddef.h>

/* Trims ASCII whitespace (isspace) from both ends of the span s[0..*len):
 * returns the first byte kept and sets *len to the length kept. */
const char *text_trim(const char *s, size_t *len);

/* Untrusted text (a failure message, an attribute) is kept only up to this
 * many bytes: enough for any real traceback head, small enough that a
 * hostile 100 MB field costs nothing downstream. */
#define TEXT_KEEP (16 * 1024)
/* Copies at most `keep` bytes of s[0..len) without splitting a UTF-8
 * character; when it cuts, appends a note saying how much there was. */
char *text_cut(const char *s, size_t len, size_t keep);
/* A printable one-line excerpt of untrusted text for a message: at most
 * `keep` bytes (UTF-8 kept whole, "..." when cut), control characters shown
 * as '?', so a hostile value can neither flood nor forge log lines. */
char *text_excerpt(const char *s, size_t len, size_t keep);
/* Appends the note text_cut uses ("... [cut: N bytes in all]"). */
void text_put_cut_note(buf_t *b, size_t total);
/* Length of the longest prefix of s[0..len) no longer than keep that does not
 * end inside a UTF-8 character. */
size_t text_utf8_prefix_len(const char *s, size_t len, size_t keep);
/* len minus a UTF-8 character left incomplete at the end of s[0..len). */
size_t text_utf8_complete_len(const char *s, size_t len);

/* Node ids are bytes (a file name need not be UTF-8) and some channels carry
 * only UTF-8: build meta-data (the agent sends it as JSON, turning a stray
 * byte into U+FFFD), Test Engine's API. text_escape_bytes appends s with
 * each byte that is not part of valid UTF-8, and '%', as %XX;
 * text_unescape_bytes gives the bytes back (NULL for a broken escape or %00;
 * caller frees). */
void text_escape_bytes(const char *s, buf_t *out);
char *text_unescape_bytes(const char *s);
/* Whether s is valid UTF-8 throughout (jsontext_utf8_len's rules). */
bool text_is_utf8(const char *s);

#endif

/* buf: a growable byte buffer that is always NUL-terminated.
 *
 * Every module builds strings with it (URLs, JSON bodies, markdown, argv
 * words). Allocation failure aborts: a CI tool that runs out of memory has
 * nothing sensible left to do, and checking every append would bury the logic.
 *
 * A zeroed buf_t (BUF_INIT, `= {0}`, or one after buf_free/buf_detach) is a
 * valid empty buffer: every function accepts it, the first append allocates.
 * Its data is NULL until then; buf_str() reads any buffer as a C string. */
#ifndef TEP_BUF_H
#define TEP_BUF_H
#include <stddef.h>
#include <stdarg.h>

typedef struct {
    char *data; /* NUL-terminated; NULL only while cap == 0 (nothing allocated) */
    size_t len;
    size_t cap;
} buf_t;

/* A compound literal: initialises (`buf_t b = BUF_INIT;`) and resets a
 * struct member (`w->path = BUF_INIT;`) alike. */
#define BUF_INIT ((buf_t){0})

void buf_init(buf_t *b);
void buf_free(buf_t *b);
void buf_reset(buf_t *b);
void buf_reserve(buf_t *b, size_t extra);
void buf_append(buf_t *b, const void *data, size_t len);
void buf_puts(buf_t *b, const char *s);
void buf_putc(buf_t *b, char c);
void buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(buf_t *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Hands the string to the caller (who frees it; never NULL). b is left empty
 * and unallocated, ready for reuse. */
char *buf_detach(buf_t *b);
/* The contents as a C string: "" for a buffer that never allocated. */
const char *buf_str(const buf_t *b);

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
/* Trims ASCII whitespace (isspace) from both ends of the span s[0..*len):
 * returns the first byte kept and sets *len to the length kept. */
const char *span_trim(const char *s, size_t *len);

/* Untrusted text (a failure message, an attribute) is kept only up to this
 * many bytes: enough for any real traceback head, small enough that a
 * hostile 100 MB field costs nothing downstream. */
#define TEP_TEXT_KEEP (16 * 1024)
/* Copies at most `keep` bytes of s[0..len) without splitting a UTF-8
 * character; when it cuts, appends a note saying how much there was. */
char *xstrndup_cut(const char *s, size_t len, size_t keep);
/* A printable one-line excerpt of untrusted text for a message: at most
 * `keep` bytes (UTF-8 kept whole, "..." when cut), control characters shown
 * as '?', so a hostile value can neither flood nor forge log lines. */
char *text_excerpt(const char *s, size_t len, size_t keep);
/* Appends the note xstrndup_cut uses ("... [cut: N bytes in all]"). */
void buf_put_cut_note(buf_t *b, size_t total);
/* Length of the longest prefix of s[0..len) no longer than keep that does not
 * end inside a UTF-8 character. */
size_t utf8_prefix_len(const char *s, size_t len, size_t keep);
/* len minus a UTF-8 character left incomplete at the end of s[0..len). */
size_t utf8_complete_len(const char *s, size_t len);

#endif

/* buf: a growable byte buffer that is always NUL-terminated.
 *
 * Every module builds strings with it (URLs, JSON bodies, markdown, argv
 * words). Allocation failure aborts: a CI tool that runs out of memory has
 * nothing sensible left to do, and checking every append would bury the logic. */
#ifndef TEP_BUF_H
#define TEP_BUF_H
#include <stddef.h>
#include <stdarg.h>

typedef struct {
    char *data;   /* NUL-terminated, never NULL after buf_init */
    size_t len;
    size_t cap;
} buf_t;

void buf_init(buf_t *b);
void buf_free(buf_t *b);
void buf_reset(buf_t *b);
void buf_reserve(buf_t *b, size_t extra);
void buf_append(buf_t *b, const void *data, size_t len);
void buf_puts(buf_t *b, const char *s);
void buf_putc(buf_t *b, char c);
void buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(buf_t *b, const char *fmt, va_list ap);
/* Hands the string to the caller (who frees it). b is left unallocated: call
 * buf_init before using it again (buf_free on it is harmless). */
char *buf_detach(buf_t *b);

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap);

#endif

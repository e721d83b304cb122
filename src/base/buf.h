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

#endif

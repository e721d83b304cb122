#include "base/log.h"
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool debug_on;

void log_set_debug(bool on)
{
    debug_on = on;
}

static bool use_colour(void)
{
    const char *nc = getenv("NO_COLOR");
    return !(nc && *nc) && isatty(2);
}

void log_escape(buf_t *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        if (c == '\n')
            buf_puts(out, "\\n");
        else if (c == '\r')
            buf_puts(out, "\\r");
        else if (c == '\t')
            buf_puts(out, "\\t");
        else if (c < 0x20 || c == 0x7f)
            buf_printf(out, "\\x%02x", c);
        /* U+0080..U+009F in UTF-8: C1 controls (U+009B is a one-byte CSI). */
        else if (c == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
            buf_printf(out, "\\u%04x", *++p);
        else
            buf_putc(out, (char)c);
    }
}

/* Buildkite opens a log section at a line starting with one of these. */
static bool starts_section(const char *line)
{
    static const char *const markers[] = {"+++ ", "--- ", "~~~ ", "^^^ +++", NULL};
    for (size_t i = 0; markers[i]; i++)
        if (strncmp(line, markers[i], strlen(markers[i])) == 0) return true;
    return false;
}

/* Formats one line and escapes it; the caller frees the buffer. The format
 * attributes on these va_list helpers tell clang (-Wformat-nonliteral) that
 * fmt is checked at the log_* call sites, as gcc already assumes. */
__attribute__((format(printf, 2, 0))) static void render_line(buf_t *line, const char *fmt,
                                                              va_list ap)
{
    char *raw = xvasprintf(fmt, ap);
    buf_init(line);
    log_escape(line, raw);
    free(raw);
}

/* stderr lines: "test-engine-pytest: warning: ...", coloured on a terminal. */
__attribute__((format(printf, 4, 0))) static void
emit_labelled(FILE *f, const char *colour, const char *label, const char *fmt, va_list ap)
{
    buf_t line;
    render_line(&line, fmt, ap);
    bool colours = colour && use_colour();
    fflush(stdout);
    fprintf(f, "%s%s: %s%s%s\n", colours ? colour : "", TEP_NAME, label, line.data,
            colours ? "\033[0m" : "");
    fflush(f);
    buf_free(&line);
}

/* stdout lines: `lead` then the text. Text that would itself open a
 * Buildkite section is pushed off the marker with a space (guard). */
__attribute__((format(printf, 3, 0))) static void emit_stdout(const char *lead, bool guard,
                                                              const char *fmt, va_list ap)
{
    buf_t line;
    render_line(&line, fmt, ap);
    const char *pad = guard && starts_section(line.data) ? " " : "";
    fprintf(stdout, "%s%s%s\n", lead, pad, line.data);
    fflush(stdout);
    buf_free(&line);
}

void log_info(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit_stdout("", true, fmt, ap);
    va_end(ap);
}

void log_section(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit_stdout("+++ " TEP_NAME ": ", false, fmt, ap);
    va_end(ap);
}

void log_block(const char *text)
{
    buf_t line;
    buf_init(&line);
    fflush(stdout);
    for (const char *s = text; *s;) {
        size_t n = strcspn(s, "\n");
        char *raw = xstrndup(s, n);
        buf_reset(&line);
        log_escape(&line, raw);
        fprintf(stderr, "%s\n", line.data);
        free(raw);
        s += n;
        if (*s) s++;
    }
    fflush(stderr);
    buf_free(&line);
}

void log_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit_labelled(stderr, "\033[1;33m", "warning: ", fmt, ap);
    va_end(ap);
}

void log_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit_labelled(stderr, "\033[1;31m", "error: ", fmt, ap);
    va_end(ap);
}

void log_debug(const char *fmt, ...)
{
    if (!debug_on) return;
    va_list ap;
    va_start(ap, fmt);
    emit_labelled(stderr, NULL, "debug: ", fmt, ap);
    va_end(ap);
}

void log_warn_line(void *user, const char *line)
{
    (void)user;
    log_warn("%s", line);
}

void log_error_line(void *user, const char *line)
{
    (void)user;
    log_error("%s", line);
}

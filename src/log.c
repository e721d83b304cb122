#include "log.h"
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static bool debug_on;

void log_set_debug(bool on) { debug_on = on; }
bool log_debug_enabled(void) { return debug_on; }

static bool use_colour(void)
{
    const char *nc = getenv("NO_COLOR");
    return !(nc && *nc) && isatty(2);
}

static void emit(FILE *f, const char *colour, const char *label, const char *fmt, va_list ap)
{
    fflush(stdout);
    if (colour && use_colour()) fprintf(f, "%s%s: %s", colour, TEP_NAME, label);
    else fprintf(f, "%s: %s", TEP_NAME, label);
    vfprintf(f, fmt, ap);
    if (colour && use_colour()) fputs("\033[0m", f);
    fputc('\n', f);
    fflush(f);
}

void log_info(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

void log_section(const char *fmt, ...)
{
    va_list ap;
    fputs("+++ " TEP_NAME ": ", stdout);
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

void log_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(stderr, "\033[1;33m", "warning: ", fmt, ap);
    va_end(ap);
}

void log_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(stderr, "\033[1;31m", "error: ", fmt, ap);
    va_end(ap);
}

void log_debug(const char *fmt, ...)
{
    if (!debug_on) return;
    va_list ap;
    va_start(ap, fmt);
    emit(stderr, NULL, "debug: ", fmt, ap);
    va_end(ap);
}

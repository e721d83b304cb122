#include "base/err.h"
#include "base/buf.h"
#include <stdarg.h>
#include <stdlib.h>

bool err_set(char **err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    free(*err);
    *err = msg;
    return false;
}

void warn_vsay(warn_fn fn, void *user, const char *fmt, va_list ap)
{
    if (!fn) return;
    char *line = xvasprintf(fmt, ap);
    fn(user, line);
    free(line);
}

#include "warncap.h"
#include "buf.h"
#include <stdarg.h>
#include <stdlib.h>

bool warncap_next(warncap_t *w)
{
    if (w->shown >= w->max) {
        w->more++;
        return false;
    }
    w->shown++;
    return true;
}

void warncap_say(const warncap_t *w, const char *fmt, ...)
{
    if (!w->fn) return;
    va_list ap;
    va_start(ap, fmt);
    char *line = xvasprintf(fmt, ap);
    va_end(ap);
    w->fn(w->user, line);
    free(line);
}

#include "base/warncap.h"
#include "base/buf.h"
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
    va_list ap;
    va_start(ap, fmt);
    warn_vsay(w->fn, w->user, fmt, ap);
    va_end(ap);
}

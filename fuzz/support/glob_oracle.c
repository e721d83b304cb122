#include "glob_oracle.h"

static bool match_class(const char **pp, char c)
{
    const char *s = *pp + 1;
    bool negate = false, hit = false;
    if (*s == '!' || *s == '^') {
        negate = true;
        s++;
    }
    bool first = true;
    while (*s && (*s != ']' || first)) {
        first = false;
        char lo = *s;
        if (lo == '\\' && s[1]) lo = *++s;
        char hi = lo;
        if (s[1] == '-' && s[2] && s[2] != ']') {
            hi = s[2];
            if (hi == '\\' && s[3]) {
                hi = s[3];
                s++;
            }
            s += 2;
        }
        if ((unsigned char)c >= (unsigned char)lo && (unsigned char)c <= (unsigned char)hi)
            hit = true;
        s++;
    }
    *pp = *s ? s + 1 : s;
    return c != '/' && hit != negate;
}

bool oracle_match(const char *p, const char *s, bool prefix_mode)
{
    for (;;) {
        if (!*s && prefix_mode) return true;
        if (p[0] == '*' && p[1] == '*') {
            const char *rest = p + 2;
            while (*rest == '*') rest++;
            if (prefix_mode) return true;
            if (*rest == '\0') return true;
            if (*rest == '/') {
                if (oracle_match(rest + 1, s, prefix_mode)) return true;
                for (const char *t = s; *t; t++)
                    if (*t == '/' && oracle_match(rest + 1, t + 1, prefix_mode)) return true;
                return false;
            }
            p = rest - 1;
            continue;
        }
        switch (*p) {
        case '\0': return *s == '\0';
        case '*': {
            const char *rest = p + 1;
            for (const char *t = s;; t++) {
                if (oracle_match(rest, t, prefix_mode)) return true;
                if (!*t || *t == '/') return false;
            }
        }
        case '?':
            if (!*s || *s == '/') return false;
            p++, s++;
            break;
        case '[':
            if (!*s || !match_class(&p, *s)) return false;
            s++;
            break;
        case '\\':
            if (p[1]) p++;
            /* fall through */
        default:
            if (*p != *s) return false;
            p++, s++;
        }
    }
}

#include "pattern.h"
#include "buf.h"
#include <stdlib.h>
#include <string.h>

/* Finds the '}' closing the '{' at open, skipping escapes and nested braces. */
static const char *closing_brace(const char *open)
{
    int depth = 0;
    for (const char *s = open; *s; s++) {
        if (*s == '\\' && s[1]) { s++; continue; }
        if (*s == '{') depth++;
        else if (*s == '}' && --depth == 0) return s;
    }
    return NULL;
}

static bool expand(const char *text, strlist_t *out, int depth, char **err)
{
    if (depth > 32) { *err = xstrdup("braces nested too deeply"); return false; }
    const char *open = NULL;
    for (const char *s = text; *s; s++) {
        if (*s == '\\' && s[1]) { s++; continue; }
        if (*s == '{') { open = s; break; }
        if (*s == '}') { *err = xstrdup("'}' without a matching '{'"); return false; }
    }
    if (!open) { strlist_push(out, text); return true; }
    const char *close = closing_brace(open);
    if (!close) { *err = xstrdup("'{' is never closed"); return false; }
    /* Split the brace body on top-level commas and recurse on each choice. */
    const char *start = open + 1;
    int nest = 0;
    for (const char *s = open + 1; s <= close; s++) {
        if (*s == '\\' && s[1]) { s++; continue; }
        if (*s == '{') nest++;
        else if (*s == '}' && s != close) nest--;
        else if ((*s == ',' && nest == 0) || s == close) {
            char *alt = xasprintf("%.*s%.*s%s", (int)(open - text), text, (int)(s - start), start, close + 1);
            bool ok = expand(alt, out, depth + 1, err);
            free(alt);
            if (!ok) return false;
            start = s + 1;
        }
    }
    return true;
}

static bool check_classes(const char *alt, char **err)
{
    for (const char *s = alt; *s; s++) {
        if (*s == '\\') {
            if (!s[1]) { *err = xstrdup("pattern ends with a lone '\\'"); return false; }
            s++;
        } else if (*s == '[') {
            const char *e = s + 1;
            if (*e == '!' || *e == '^') e++;
            if (*e == ']') e++;
            while (*e && *e != ']') e++;
            if (!*e) { *err = xstrdup("'[' is never closed"); return false; }
            s = e;
        }
    }
    return true;
}

bool pattern_compile(pattern_t *p, const char *text, char **err)
{
    *err = NULL;
    strlist_init(&p->alts);
    if (!*text) { *err = xstrdup("pattern is empty"); return false; }
    if (!expand(text, &p->alts, 0, err)) return false;
    for (size_t i = 0; i < p->alts.len; i++)
        if (!check_classes(p->alts.items[i], err)) return false;
    return true;
}

void pattern_free(pattern_t *p)
{
    strlist_free(&p->alts);
}

/* Matches one '[...]' class at *pp against c; advances *pp past it. */
static bool match_class(const char **pp, char c)
{
    const char *s = *pp + 1;
    bool negate = false, hit = false;
    if (*s == '!' || *s == '^') { negate = true; s++; }
    bool first = true;
    while (*s && (*s != ']' || first)) {
        first = false;
        char lo = *s;
        if (lo == '\\' && s[1]) lo = *++s;
        char hi = lo;
        if (s[1] == '-' && s[2] && s[2] != ']') {
            hi = s[2];
            if (hi == '\\' && s[3]) { hi = s[3]; s++; }
            s += 2;
        }
        if ((unsigned char)c >= (unsigned char)lo && (unsigned char)c <= (unsigned char)hi) hit = true;
        s++;
    }
    *pp = *s ? s + 1 : s;
    return c != '/' && hit != negate;
}

/* prefix_mode: succeed when str runs out, whatever pattern remains (used to
 * ask "can something below this directory match?"). */
static bool match_at(const char *p, const char *s, bool prefix_mode)
{
    for (;;) {
        if (!*s && prefix_mode) return true;
        if (p[0] == '*' && p[1] == '*') {
            const char *rest = p + 2;
            while (*rest == '*') rest++;
            if (prefix_mode) return true;
            if (*rest == '\0') return true;
            if (*rest == '/') {
                /* zero directories, or skip to after any later '/' */
                if (match_at(rest + 1, s, prefix_mode)) return true;
                for (const char *t = s; *t; t++)
                    if (*t == '/' && match_at(rest + 1, t + 1, prefix_mode)) return true;
                return false;
            }
            p = rest - 1; /* '**' glued to text behaves like '*' */
            continue;
        }
        switch (*p) {
        case '\0':
            return *s == '\0';
        case '*': {
            const char *rest = p + 1;
            for (const char *t = s;; t++) {
                if (match_at(rest, t, prefix_mode)) return true;
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

bool pattern_match(const pattern_t *p, const char *path)
{
    for (size_t i = 0; i < p->alts.len; i++)
        if (match_at(p->alts.items[i], path, false)) return true;
    return false;
}

bool pattern_may_match_below(const pattern_t *p, const char *dir)
{
    char *probe = xasprintf("%s/", dir);
    bool hit = false;
    for (size_t i = 0; i < p->alts.len && !hit; i++) hit = match_at(p->alts.items[i], probe, true);
    free(probe);
    return hit;
}

bool pattern_names_dir(const pattern_t *p, const char *name)
{
    for (size_t i = 0; i < p->alts.len; i++) {
        char *copy = xstrdup(p->alts.items[i]);
        char *save = NULL;
        bool hit = false;
        for (char *seg = strtok_r(copy, "/", &save); seg && !hit; seg = strtok_r(NULL, "/", &save)) {
            bool explicit = seg[0] == '.' || strstr(seg, "node_modules") != NULL;
            if (explicit && strcmp(seg, "**") != 0 && match_at(seg, name, false)) hit = true;
        }
        free(copy);
        if (hit) return true;
    }
    return false;
}

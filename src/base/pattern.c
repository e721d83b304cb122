#include "base/pattern.h"
#include "base/buf.h"
#include "base/err.h"
#include <stdlib.h>
#include <string.h>

/* ---- brace expansion (bounded) ---- */

/* Finds the '}' closing the '{' at open, skipping escapes and nested braces. */
static const char *closing_brace(const char *open)
{
    int depth = 0;
    for (const char *s = open; *s; s++) {
        if (*s == '\\' && s[1]) {
            s++;
            continue;
        }
        if (*s == '{')
            depth++;
        else if (*s == '}' && --depth == 0)
            return s;
    }
    return NULL;
}

/* Checks the brace structure and its bounds before anything is expanded. */
static bool check_braces(const char *text, char **err)
{
    size_t groups = 0;
    int depth = 0;
    for (const char *s = text; *s; s++) {
        if (*s == '\\' && s[1]) {
            s++;
            continue;
        }
        if (*s == '{') {
            if (++groups > PATTERN_MAX_GROUPS)
                return err_set(err, "more than %d '{' groups; use fewer or a broader '*'",
                               PATTERN_MAX_GROUPS);
            if (++depth > PATTERN_MAX_NESTING)
                return err_set(err, "braces nested more than %d deep", PATTERN_MAX_NESTING);
        } else if (*s == '}') {
            if (depth == 0) return err_set(err, "'}' without a matching '{'");
            depth--;
        }
    }
    if (depth) return err_set(err, "'{' is never closed");
    return true;
}

/* Expands the first brace group of text and recurses on each choice. The
 * structure was checked, so only the number of alternatives can run away. */
static bool expand_braces(const char *text, strlist_t *out, char **err)
{
    const char *open = NULL;
    for (const char *s = text; *s && !open; s++) {
        if (*s == '\\' && s[1])
            s++;
        else if (*s == '{')
            open = s;
    }
    if (!open) {
        if (out->len == PATTERN_MAX_ALTS)
            return err_set(
                err,
                "braces expand to more than %d alternatives; use fewer '{a,b}' groups or "
                "a broader '*'",
                PATTERN_MAX_ALTS);
        strlist_push(out, text);
        return true;
    }
    const char *close = closing_brace(open);
    /* Split the brace body on top-level commas and recurse on each choice. */
    const char *start = open + 1;
    int nest = 0;
    for (const char *s = open + 1; s <= close; s++) {
        if (*s == '\\' && s[1]) {
            s++;
            continue;
        }
        if (*s == '{')
            nest++;
        else if (*s == '}' && s != close)
            nest--;
        else if ((*s == ',' && nest == 0) || s == close) {
            char *alt = xasprintf("%.*s%.*s%s", (int)(open - text), text, (int)(s - start), start,
                                  close + 1);
            bool ok = expand_braces(alt, out, err);
            free(alt);
            if (!ok) return false;
            start = s + 1;
        }
    }
    return true;
}

/* ---- compiling an alternative to tokens ---- */

typedef enum {
    T_LIT,   /* one byte */
    T_ANY,   /* '?': one byte but '/' */
    T_CLASS, /* '[...]': one byte in the class, never '/' */
    T_STAR,  /* '*': any run of bytes without '/' */
    T_ALL,   /* a trailing '**': anything, '/' included */
    T_DIRS,  /* '**' + '/': nothing, or anything that ends with '/' */
} tok_kind_t;

typedef struct glob_tok {
    tok_kind_t kind;
    bool doubled;    /* written as '**': in prefix mode, anything below may match */
    char c;          /* T_LIT */
    const char *cls; /* T_CLASS: the '[' in the alternative's text */
} glob_tok_t;

/* One element of a class at *s: a byte or a range, escapes allowed. Returns
 * the byte after it and sets lo/hi. The one parser for compile and match. */
static const char *class_member(const char *s, unsigned char *lo, unsigned char *hi)
{
    if (*s == '\\' && s[1]) s++;
    *lo = *hi = (unsigned char)*s;
    if (s[1] == '-' && s[2] && s[2] != ']') {
        const char *h = s + 2;
        if (*h == '\\' && h[1]) h++;
        *hi = (unsigned char)*h;
        return h + 1;
    }
    return s + 1;
}

/* The byte after the class starting at '[', or NULL when it never closes. */
static const char *class_end(const char *open)
{
    const char *s = open + 1;
    if (*s == '!' || *s == '^') s++;
    bool first = true; /* a ']' right after '[' or '[!' is a member */
    while (*s && (*s != ']' || first)) {
        unsigned char lo, hi;
        s = class_member(s, &lo, &hi);
        first = false;
    }
    return *s ? s + 1 : NULL;
}

static bool class_match(const char *open, char c)
{
    if (c == '/') return false;
    const char *s = open + 1;
    bool negate = *s == '!' || *s == '^';
    if (negate) s++;
    bool first = true;
    bool hit = false;
    while (*s && (*s != ']' || first)) {
        unsigned char lo, hi;
        s = class_member(s, &lo, &hi);
        first = false;
        if ((unsigned char)c >= lo && (unsigned char)c <= hi) hit = true;
    }
    return hit != negate;
}

/* One token at p into tok; returns the byte after it, or NULL with *err. */
static const char *read_glob_token(const char *p, glob_tok_t *tok, char **err)
{
    if (p[0] == '*' && p[1] == '*') {
        const char *q = p;
        while (*q == '*') q++;
        tok->doubled = true;
        tok->kind = T_STAR; /* '**' glued to text behaves like '*' */
        if (*q == '\0') tok->kind = T_ALL;
        if (*q == '/') {
            tok->kind = T_DIRS;
            q++;
        }
        return q;
    }
    if (*p == '*' || *p == '?') {
        tok->kind = *p == '*' ? T_STAR : T_ANY;
        return p + 1;
    }
    if (*p == '[') {
        const char *e = class_end(p);
        if (!e) err_set(err, "'[' is never closed");
        tok->kind = T_CLASS;
        tok->cls = p;
        return e;
    }
    if (*p == '\\') {
        if (!p[1]) err_set(err, "pattern ends with a lone '\\'");
        tok->kind = T_LIT;
        tok->c = p[1];
        return p[1] ? p + 2 : NULL;
    }
    tok->kind = T_LIT;
    tok->c = *p;
    return p + 1;
}

/* Compiles one brace-free alternative to its token list. */
static bool tokenize_alt(const char *p, glob_tok_t **out, size_t *n, char **err)
{
    glob_tok_t *t = xcalloc(strlen(p) + 1, sizeof *t);
    size_t k = 0;
    while (*p) {
        p = read_glob_token(p, &t[k++], err);
        if (!p) {
            free(t);
            return false;
        }
    }
    *out = t;
    *n = k;
    return true;
}

/* ---- matching: every pattern position at once ---- */

/* at[i]: about to match token i. in[i]: inside a T_DIRS that consumed bytes
 * but has not ended on a '/' yet (it may not be skipped from there). */
typedef struct {
    bool *at, *in;
} states_t;

/* Tokens that can match nothing let the next one start too. Edges only go
 * forward by one, so a single forward pass is the whole closure. */
static void nfa_closure(const glob_tok_t *t, size_t n, bool *at)
{
    for (size_t i = 0; i < n; i++)
        if (at[i] && (t[i].kind == T_STAR || t[i].kind == T_ALL || t[i].kind == T_DIRS))
            at[i + 1] = true;
}

static bool nfa_step(const glob_tok_t *t, size_t n, const states_t *cur, states_t *nxt, char c)
{
    memset(nxt->at, 0, n + 1);
    memset(nxt->in, 0, n + 1);
    bool alive = false;
    for (size_t i = 0; i < n; i++) {
        if (!cur->at[i] && !cur->in[i]) continue;
        bool at = cur->at[i];
        switch (t[i].kind) {
        case T_LIT:
            if (at && c == t[i].c) nxt->at[i + 1] = true;
            break;
        case T_ANY:
            if (at && c != '/') nxt->at[i + 1] = true;
            break;
        case T_CLASS:
            if (at && class_match(t[i].cls, c)) nxt->at[i + 1] = true;
            break;
        case T_STAR:
            if (at && c != '/') nxt->at[i] = true;
            break;
        case T_ALL: nxt->at[i] = true; break;
        case T_DIRS:
            nxt->in[i] = true;
            if (c == '/') nxt->at[i + 1] = true;
            break;
        }
    }
    /* Alive while any position survived the byte. */
    for (size_t i = 0; i <= n && !alive; i++) alive = nxt->at[i] || nxt->in[i];
    nfa_closure(t, n, nxt->at);
    return alive;
}

static bool reached_doubled(const glob_tok_t *t, size_t n, const states_t *s)
{
    for (size_t i = 0; i < n; i++)
        if ((s->at[i] || s->in[i]) && t[i].doubled) return true;
    return false;
}

/* prefix_mode: succeed when the string runs out with the pattern still
 * alive, or on reaching a '**' (asks "can something below this match?"). */
static bool nfa_run(const glob_tok_t *t, size_t n, const char *s, bool prefix_mode)
{
    bool small[4][64];
    bool *mem = n + 1 <= 64 ? NULL : xcalloc(4 * (n + 1), sizeof(bool));
    states_t a = {mem ? mem : small[0], mem ? mem + (n + 1) : small[1]};
    states_t b = {mem ? mem + 2 * (n + 1) : small[2], mem ? mem + 3 * (n + 1) : small[3]};
    memset(a.at, 0, n + 1);
    memset(a.in, 0, n + 1);
    a.at[0] = true;
    nfa_closure(t, n, a.at);
    states_t *cur = &a;
    states_t *nxt = &b;
    bool result = false;
    bool decided = false;
    for (; *s && !decided; s++) {
        if (prefix_mode && reached_doubled(t, n, cur)) {
            result = decided = true;
            break;
        }
        if (!nfa_step(t, n, cur, nxt, *s)) {
            decided = true; /* no position survived: no match */
            break;
        }
        states_t *tmp = cur;
        cur = nxt;
        nxt = tmp;
    }
    if (!decided) {
        if (prefix_mode) {
            for (size_t i = 0; i <= n && !result; i++) result = cur->at[i] || cur->in[i];
        } else {
            result = cur->at[n];
        }
    }
    free(mem);
    return result;
}

static bool match_segment(const char *pat, const char *s, bool prefix_mode)
{
    glob_tok_t *t;
    size_t n;
    char *err = NULL;
    if (!tokenize_alt(pat, &t, &n, &err)) {
        free(err);
        return false;
    }
    bool hit = nfa_run(t, n, s, prefix_mode);
    free(t);
    return hit;
}

/* ---- shortcuts for whole-path matches ---- */

static pattern_shortcut_t shortcut_of(const glob_tok_t *t, size_t n)
{
    pattern_shortcut_t cut = {0};
    cut.last_segment = n > 0 && t[0].kind == T_DIRS;
    for (size_t i = 1; i < n && cut.last_segment; i++)
        cut.last_segment =
            t[i].kind != T_DIRS && t[i].kind != T_ALL && !(t[i].kind == T_LIT && t[i].c == '/');
    size_t first = cut.last_segment ? 1 : 0;
    while (first + cut.suffix < n && t[n - 1 - cut.suffix].kind == T_LIT) cut.suffix++;
    while (first + cut.prefix + cut.suffix < n && t[first + cut.prefix].kind == T_LIT) cut.prefix++;
    size_t middle = n - first - cut.prefix - cut.suffix;
    if (middle == 0)
        cut.middle = PATTERN_MIDDLE_NONE;
    else if (middle == 1 && t[first + cut.prefix].kind == T_STAR)
        cut.middle = PATTERN_MIDDLE_STAR;
    else
        cut.middle = PATTERN_MIDDLE_NFA;
    return cut;
}

/* Whether s starts with the n literal tokens at t. */
static bool literals_match(const glob_tok_t *t, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != t[i].c) return false;
    return true;
}

/* One alternative against a whole path. With last_segment, "**" + "/" takes
 * everything up to the last '/' (or nothing) and the rest, which cannot
 * match a '/', must match the last segment. Literal tokens match one byte
 * each, so a match needs the prefix and suffix bytes where they are; a '*'
 * between them takes any bytes but '/'. The same answers as the NFA over the
 * whole path, from fewer steps. */
static bool alt_match(const pattern_t *p, size_t i, const char *path, size_t len)
{
    const glob_tok_t *t = p->progs[i];
    size_t n = p->prog_len[i];
    const pattern_shortcut_t *cut = &p->cut[i];
    const char *s = path;
    size_t first = 0;
    if (cut->last_segment) {
        const char *slash = strrchr(path, '/');
        if (slash) s = slash + 1;
        first = 1;
    }
    size_t slen = len - (size_t)(s - path);
    if (slen < cut->prefix + cut->suffix) return false;
    if (!literals_match(t + first, cut->prefix, s)) return false;
    if (!literals_match(t + n - cut->suffix, cut->suffix, s + slen - cut->suffix)) return false;
    switch (cut->middle) {
    case PATTERN_MIDDLE_NONE: return slen == cut->prefix + cut->suffix;
    case PATTERN_MIDDLE_STAR:
        return !memchr(s + cut->prefix, '/', slen - cut->prefix - cut->suffix);
    case PATTERN_MIDDLE_NFA: break;
    }
    return nfa_run(t + first, n - first, s, false);
}

/* ---- the public face ---- */

bool pattern_compile(pattern_t *p, const char *text, char **err)
{
    memset(p, 0, sizeof *p);
    if (!*text) return err_set(err, "pattern is empty");
    if (strlen(text) > PATTERN_MAX_LEN)
        return err_set(err, "pattern is longer than %d bytes", PATTERN_MAX_LEN);
    bool ok = check_braces(text, err) && expand_braces(text, &p->alts, err);
    if (ok) {
        p->progs = xcalloc(p->alts.len, sizeof *p->progs);
        p->prog_len = xcalloc(p->alts.len, sizeof *p->prog_len);
        p->cut = xcalloc(p->alts.len, sizeof *p->cut);
    }
    for (size_t i = 0; ok && i < p->alts.len; i++) {
        ok = tokenize_alt(p->alts.items[i], &p->progs[i], &p->prog_len[i], err);
        if (ok) p->cut[i] = shortcut_of(p->progs[i], p->prog_len[i]);
    }
    if (!ok) pattern_free(p); /* a failed compile holds nothing */
    return ok;
}

void pattern_free(pattern_t *p)
{
    for (size_t i = 0; p->progs && i < p->alts.len; i++) free(p->progs[i]);
    free(p->progs);
    free(p->prog_len);
    free(p->cut);
    p->progs = NULL;
    p->prog_len = NULL;
    p->cut = NULL;
    strlist_free(&p->alts);
}

bool pattern_match(const pattern_t *p, const char *path)
{
    size_t len = strlen(path);
    for (size_t i = 0; i < p->alts.len; i++)
        if (alt_match(p, i, path, len)) return true;
    return false;
}

bool pattern_may_match_below(const pattern_t *p, const char *dir)
{
    char *probe = xasprintf("%s/", dir);
    bool hit = false;
    for (size_t i = 0; i < p->alts.len && !hit; i++)
        hit = nfa_run(p->progs[i], p->prog_len[i], probe, true);
    free(probe);
    return hit;
}

bool pattern_names_dir(const pattern_t *p, const char *name)
{
    for (size_t i = 0; i < p->alts.len; i++) {
        char *copy = xstrdup(p->alts.items[i]);
        char *save = NULL;
        bool hit = false;
        for (char *seg = strtok_r(copy, "/", &save); seg && !hit;
             seg = strtok_r(NULL, "/", &save)) {
            bool explicit = seg[0] == '.' || strstr(seg, "node_modules") != NULL;
            if (explicit && strcmp(seg, "**") != 0 && match_segment(seg, name, false)) hit = true;
        }
        free(copy);
        if (hit) return true;
    }
    return false;
}

#include "pytest/selector.h"
#include "base/buf.h"
#include "base/strset.h"
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *selector_file_part(const char *s)
{
    const char *sep = strstr(s, "::");
    return sep ? xstrndup(s, (size_t)(sep - s)) : xstrdup(s);
}

const char *selector_strip_prefix(const char *prefix, const char *path)
{
    size_t n = prefix ? strlen(prefix) : 0;
    if (!n || strncmp(path, prefix, n) != 0) return path;
    /* Only at a component boundary: the prefix ends with '/', or the path's
     * next byte is '/' or its end. */
    if (prefix[n - 1] != '/' && path[n] != '/' && path[n] != '\0') return path;
    path += n;
    while (*path == '/') path++;
    return path;
}

static bool has_control_char(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f) return true;
    return false;
}

static bool has_dotdot_component(const char *path)
{
    const char *p = path;
    while (*p) {
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.') return true;
        if (!end) break;
        p = end + 1;
    }
    return false;
}

/* After the file: "::"-separated parts, each non-empty, until an optional
 * "[...]" parameter id at the end, inside which anything printable goes. */
static const char *parts_problem(const char *rest)
{
    while (strncmp(rest, "::", 2) == 0) {
        rest += 2;
        size_t n = 0;
        while (rest[n] && rest[n] != '[' && strncmp(rest + n, "::", 2) != 0) n++;
        if (n == 0) return "has an empty '::' part";
        rest += n;
        if (*rest == '[')
            return strchr(rest, ']') ? NULL : "has a '[' parameter id that is never closed";
    }
    return NULL;
}

static bool path_is_inside(const char *real, const char *cwd)
{
    size_t n = strlen(cwd);
    if (n == 1) return true; /* checkout at "/" */
    return strncmp(real, cwd, n) == 0 && (real[n] == '/' || real[n] == '\0');
}

/* ---- the guard: where a file part leads, one directory at a time ---- */

/* What a leading part of a file path is. A part resolves inside the
 * checkout when its parent does and it is not a symlink (a plain name adds
 * a component to the parent's real path), or when it is a symlink whose
 * realpath is inside. A part under a missing one is missing too (nothing
 * below a missing component can be a link); a part under a refused one is
 * refused for the same reason (stricter than resolving it: a path that
 * leaves the checkout and links back in is refused). */
typedef enum {
    DIR_INSIDE,       /* present, resolves inside the checkout */
    DIR_MISSING,      /* not there; what is there resolves inside */
    DIR_OUTSIDE,      /* resolves outside the checkout */
    DIR_DANGLING,     /* a symlink that does not resolve (or loops) */
    DIR_UNRESOLVABLE, /* realpath failed otherwise */
} dir_verdict_t;

static const char *const verdict_reason[] = {
    [DIR_INSIDE] = NULL,
    [DIR_MISSING] = NULL,
    [DIR_OUTSIDE] = "resolves outside the checkout",
    [DIR_DANGLING] = "goes through a symlink that does not resolve",
    [DIR_UNRESOLVABLE] = "cannot be resolved",
};

void selector_guard_init(selector_guard_t *g)
{
    memset(g, 0, sizeof *g);
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof cwd)) g->cwd = xstrdup(cwd); /* the kernel's: already a real path */
}

void selector_guard_free(selector_guard_t *g)
{
    for (size_t i = 0; i < g->cap; i++) free(g->keys[i]);
    free(g->keys);
    free(g->why);
    free(g->cwd);
    memset(g, 0, sizeof *g);
}

/* The slot holding the n bytes at key (hash h), or the empty slot where
 * they would go. */
static size_t guard_slot(char *const *keys, size_t cap, uint64_t h, const char *key, size_t n)
{
    size_t mask = cap - 1;
    size_t i = (size_t)h & mask;
    while (keys[i] && !(strncmp(keys[i], key, n) == 0 && keys[i][n] == '\0')) i = (i + 1) & mask;
    return i;
}

static void guard_grow(selector_guard_t *g)
{
    size_t cap = g->cap ? g->cap * 2 : 64;
    char **keys = xcalloc(cap, sizeof *keys);
    unsigned char *why = xcalloc(cap, 1);
    for (size_t i = 0; i < g->cap; i++) {
        if (!g->keys[i]) continue;
        const char *k = g->keys[i];
        size_t j = guard_slot(keys, cap, strset_hash(k), k, strlen(k));
        keys[j] = g->keys[i];
        why[j] = g->why[i];
    }
    free(g->keys);
    free(g->why);
    g->keys = keys;
    g->why = why;
    g->cap = cap;
}

/* The cached verdict of path[0, n) (hash h), or -1. */
static int guard_lookup(const selector_guard_t *g, uint64_t h, const char *path, size_t n)
{
    if (!g->cap) return -1;
    size_t i = guard_slot(g->keys, g->cap, h, path, n);
    return g->keys[i] ? g->why[i] : -1;
}

static void guard_store(selector_guard_t *g, uint64_t h, const char *path, size_t n,
                        dir_verdict_t v)
{
    if ((g->len + 1) * 2 > g->cap) guard_grow(g); /* at most half full */
    size_t i = guard_slot(g->keys, g->cap, h, path, n);
    if (g->keys[i]) return;
    g->keys[i] = xstrndup(path, n);
    g->why[i] = (unsigned char)v;
    g->len++;
}

/* One part whose parent resolves inside: one lstat, and a realpath only
 * when the part is a symlink. */
static dir_verdict_t part_verdict(const char *cwd, const char *part)
{
    struct stat st;
    if (lstat(part, &st) != 0) return DIR_MISSING;
    if (!S_ISLNK(st.st_mode)) return DIR_INSIDE;
    char real[PATH_MAX];
    if (!realpath(part, real))
        return errno == ENOENT || errno == ELOOP ? DIR_DANGLING : DIR_UNRESOLVABLE;
    return path_is_inside(real, cwd) ? DIR_INSIDE : DIR_OUTSIDE;
}

/* Where a leading part ends: at a '/' or the end, after a byte that is not
 * '/' ("a//b" has the parts "a" and "a//b"). */
static bool part_end(const char *path, size_t i, size_t len)
{
    return i > 0 && (i == len || path[i] == '/') && path[i - 1] != '/';
}

/* The leading parts of a path, each with the hash of its bytes, found in
 * one pass (FNV-1a runs left to right, so each part's hash is the running
 * hash where it ends): a path of 2,000 parts costs 2,000 steps, not a hash
 * of each prefix. Only parts the kernel could look up (shorter than
 * PATH_MAX): a longer one is not there for lstat either. */
typedef struct {
    size_t *end;
    uint64_t *hash;
    size_t n;
} parts_t;

static void parts_of(const char *path, size_t len, parts_t *p)
{
    size_t limit = len < PATH_MAX ? len : PATH_MAX - 1;
    p->end = xmalloc((limit / 2 + 2) * sizeof *p->end);
    p->hash = xmalloc((limit / 2 + 2) * sizeof *p->hash);
    p->n = 0;
    uint64_t h = 14695981039346656037ULL; /* strset_hash's, byte by byte */
    for (size_t i = 1; i <= limit; i++) {
        h ^= (unsigned char)path[i - 1];
        h *= 1099511628211ULL;
        if (!part_end(path, i, len)) continue;
        p->end[p->n] = i;
        p->hash[p->n++] = h;
    }
}

/* The verdict of the whole of path: from the deepest part already known,
 * each deeper part is judged from its parent's verdict and remembered. */
static dir_verdict_t path_verdict(selector_guard_t *g, char *path)
{
    parts_t p;
    parts_of(path, strlen(path), &p);
    size_t k = p.n;
    dir_verdict_t v = DIR_INSIDE; /* the checkout itself */
    while (k > 0) {
        int known = guard_lookup(g, p.hash[k - 1], path, p.end[k - 1]);
        if (known >= 0) {
            v = (dir_verdict_t)known;
            break;
        }
        k--;
    }
    for (; k < p.n && v == DIR_INSIDE; k++) {
        size_t i = p.end[k];
        char saved = path[i];
        path[i] = '\0';
        v = part_verdict(g->cwd, path);
        path[i] = saved;
        guard_store(g, p.hash[k], path, i, v);
    }
    free(p.end);
    free(p.hash);
    return v;
}

/* The grammar; *file gets the file part when there is one to check. */
static const char *lexical_problem(const char *s, size_t len, char **file)
{
    *file = NULL;
    if (len == 0 || !*s) return "is empty";
    if (strlen(s) != len) return "contains a NUL byte";
    if (strpbrk(s, "\n\r")) return "contains a line break";
    if (has_control_char(s)) return "contains a control character";
    if (s[0] == '-') return "starts with '-' and would be read as a pytest option";
    if (s[0] == '@') return "starts with '@' and pytest would read it as a file of arguments";
    if (s[0] == '/') return "is an absolute path";
    if (s[0] == '~') return "starts with '~'";
    char *f = selector_file_part(s);
    const char *why = NULL;
    if (!*f)
        why = "has no file part";
    else if (has_dotdot_component(f))
        why = "contains '..' and could escape the checkout";
    else
        why = parts_problem(s + strlen(f));
    if (why)
        free(f);
    else
        *file = f;
    return why;
}

const char *selector_guard_problem(selector_guard_t *g, const char *s, size_t len)
{
    char *file;
    const char *why = lexical_problem(s, len, &file);
    if (why) return why;
    /* The longest leading part of the file that exists (as a link or not)
     * must resolve inside the cwd: this covers a file that is not there yet
     * but sits behind a symlink leading out of the checkout, and a dangling
     * symlink. */
    why = g->cwd ? verdict_reason[path_verdict(g, file)]
                 : "cannot be checked: the current directory is unknown";
    free(file);
    return why;
}

const char *selector_problem(const char *s, size_t len)
{
    selector_guard_t g;
    selector_guard_init(&g);
    const char *why = selector_guard_problem(&g, s, len);
    selector_guard_free(&g);
    return why;
}

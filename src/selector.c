#include "selector.h"
#include "buf.h"
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
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

/* The longest leading part of `file` that exists (as a link or not) must
 * resolve inside the cwd: this covers a file that is not there yet but sits
 * behind a symlink leading out of the checkout, and a dangling symlink. */
static const char *escape_problem(const char *file)
{
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) return "cannot be checked: the current directory is unknown";
    char *path = xstrdup(file);
    size_t len = strlen(path);
    size_t existing = 0;
    for (size_t i = 0; i <= len; i++) {
        if (path[i] != '/' && path[i] != '\0') continue;
        if (i == 0 || path[i - 1] == '/') continue; /* "a//b": nothing new */
        char saved = path[i];
        path[i] = '\0';
        struct stat st;
        bool there = lstat(path, &st) == 0;
        path[i] = saved;
        if (!there) break; /* nothing below a missing component can be a link */
        existing = i;
    }
    const char *why = NULL;
    if (existing) {
        path[existing] = '\0';
        char real[PATH_MAX];
        if (!realpath(path, real))
            why = errno == ENOENT || errno == ELOOP ? "goes through a symlink that does not resolve"
                                                    : "cannot be resolved";
        else if (!path_is_inside(real, cwd))
            why = "resolves outside the checkout";
    }
    free(path);
    return why;
}

const char *selector_problem(const char *s, size_t len)
{
    if (len == 0 || !*s) return "is empty";
    if (strlen(s) != len) return "contains a NUL byte";
    if (strpbrk(s, "\n\r")) return "contains a line break";
    if (has_control_char(s)) return "contains a control character";
    if (s[0] == '-') return "starts with '-' and would be read as a pytest option";
    if (s[0] == '@') return "starts with '@' and pytest would read it as a file of arguments";
    if (s[0] == '/') return "is an absolute path";
    if (s[0] == '~') return "starts with '~'";
    char *file = selector_file_part(s);
    const char *why = NULL;
    if (!*file)
        why = "has no file part";
    else if (has_dotdot_component(file))
        why = "contains '..' and could escape the checkout";
    else
        why = parts_problem(s + strlen(file));
    if (!why) why = escape_problem(file);
    free(file);
    return why;
}

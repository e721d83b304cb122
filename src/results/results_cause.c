#include "results/results_cause.h"
#include "base/buf.h"
#include "base/strlist.h"
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* "E   text" -> "text"; NULL when the line is not one of pytest's E lines. */
static const char *e_line(const char *line)
{
    if (line[0] != 'E' || (line[1] != ' ' && line[1] != '\0')) return NULL;
    line++;
    while (*line == ' ') line++;
    return line;
}

/* "ModuleNotFoundError: No module named 'x'", "pkg.Error: x", "KeyError":
 * a dotted name whose last part is capitalised, like exception classes. */
static bool is_exception_line(const char *s)
{
    const char *p = s, *last = s;
    while (isalnum((unsigned char)*p) || *p == '_' || *p == '.') {
        if (*p == '.') last = p + 1;
        p++;
    }
    if (p == s || !isupper((unsigned char)*last)) return false;
    if (*p == ':') return p[1] == ' ' || p[1] == '\0';
    if (*p) return false;
    static const char *const endings[] = {"Error",     "Exception", "Exit",
                                          "Interrupt", "Warning",   NULL};
    for (size_t i = 0; endings[i]; i++) {
        size_t n = strlen(endings[i]);
        size_t len = (size_t)(p - s);
        if (len >= n && strcmp(p - n, endings[i]) == 0) return true;
    }
    return false;
}

static bool is_syntax_error(const char *s)
{
    static const char *const names[] = {"SyntaxError", "IndentationError", "TabError", NULL};
    for (size_t i = 0; names[i]; i++) {
        size_t n = strlen(names[i]);
        if (strncmp(s, names[i], n) == 0 && (s[n] == ':' || s[n] == '\0')) return true;
    }
    return false;
}

/* 'File "/abs/tests/x.py", line 3' -> "tests/x.py, line 3" (caller frees). */
static char *syntax_location(const char *s, const char *file)
{
    if (strncmp(s, "File \"", 6) != 0) return NULL;
    const char *path = s + 6, *q = strstr(path, "\", line ");
    if (!q) return NULL;
    size_t n = (size_t)(q - path);
    size_t fl = file ? strlen(file) : 0;
    long line = strtol(q + 8, NULL, 10);
    if (fl && n > fl && path[n - fl - 1] == '/' && strncmp(path + n - fl, file, fl) == 0)
        path += n - fl, n = fl;
    return xasprintf("%.*s, line %ld", (int)n, path, line);
}

/* The cause in the last block of E lines [first, end). */
static char *cause_in_block(const strlist_t *lines, size_t first, size_t end, const char *file)
{
    const char *exc = NULL;
    char *where = NULL;
    for (size_t i = first; i < end; i++) {
        const char *s = e_line(lines->items[i]);
        if (!where) where = syntax_location(s, file);
        /* The code line shown above a SyntaxError may look like "x: y". */
        if (where && is_syntax_error(s)) exc = s;
    }
    for (size_t i = first; i < end && !exc; i++) {
        const char *s = e_line(lines->items[i]);
        if (is_exception_line(s)) exc = s;
    }
    if (!exc) {
        free(where);
        return xstrdup(e_line(lines->items[end - 1]));
    }
    char *cause = where && is_syntax_error(exc) ? xasprintf("%s (%s)", exc, where) : xstrdup(exc);
    free(where);
    return cause;
}

/* "path:123: in name" (or "<frozen x>:1: in y"): a traceback frame, not a cause. */
static bool is_frame(const char *s)
{
    const char *in = strstr(s, ": in ");
    if (!in || in == s) return false;
    const char *d = in;
    while (d > s && isdigit((unsigned char)d[-1])) d--;
    return d < in && d > s && d[-1] == ':' && !strchr(in + 5, ' ');
}

static bool is_context_line(const char *s)
{
    return !*s || s[0] == ' ' || is_frame(s) || strcmp(s, "Traceback:") == 0 ||
           strncmp(s, "Hint:", 5) == 0 || strcmp(s, "???") == 0;
}

/* split on '\n' keeping empty lines and leading blanks (strlist_push_lines trims). */
static void split_lines(const char *text, strlist_t *lines)
{
    for (const char *s = text;;) {
        size_t n = strcspn(s, "\n");
        while (n && s[n - 1] == '\r') n--;
        strlist_push_owned(lines, xstrndup(s, n));
        s += strcspn(s, "\n");
        if (!*s) break;
        s++;
    }
}

char *results_cause_of(const char *text, const char *file)
{
    if (!text || !*text) return NULL;
    strlist_t lines;
    strlist_init(&lines);
    split_lines(text, &lines);
    size_t end = lines.len;
    while (end && !e_line(lines.items[end - 1])) end--;
    size_t first = end;
    while (first && e_line(lines.items[first - 1])) first--;
    char *cause = NULL;
    if (end) {
        cause = cause_in_block(&lines, first, end, file);
    } else {
        for (size_t i = 0; i < lines.len && !cause; i++)
            if (!is_context_line(lines.items[i])) cause = xstrdup(lines.items[i]);
        if (!cause) cause = xstrdup(lines.items[0]);
    }
    strlist_free(&lines);
    return cause;
}

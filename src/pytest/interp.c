#include "pytest/interp.h"
#include "base/buf.h"
#include <ctype.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static bool is_python(const char *path)
{
    const char *b = base_name(path);
    return strncmp(b, "python", 6) == 0 || strncmp(b, "pypy", 4) == 0;
}

static bool is_pytest_script(const char *path)
{
    const char *b = base_name(path);
    return strncmp(b, "pytest", 6) == 0 || strncmp(b, "py.test", 7) == 0;
}

/* Splits s on blanks into argv. */
static void push_words(strlist_t *argv, const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        while (i < n && isblank((unsigned char)s[i])) i++;
        size_t start = i;
        while (i < n && !isblank((unsigned char)s[i])) i++;
        if (i > start) strlist_push_owned(argv, xstrndup(s + start, i - start));
    }
}

/* "#!/usr/bin/env [-S] [VAR=x] python3 -u": the program env runs, and its options. */
static bool from_env_line(const char *args, size_t n, strlist_t *argv)
{
    strlist_t words;
    strlist_init(&words);
    push_words(&words, args, n);
    size_t i = 0;
    while (i < words.len && (words.items[i][0] == '-' || strchr(words.items[i], '='))) i++;
    bool ok = i < words.len && is_python(words.items[i]);
    for (size_t j = i; ok && j < words.len; j++) strlist_push(argv, words.items[j]);
    strlist_free(&words);
    return ok;
}

/* pip's launcher for paths too long for a shebang:
 *   #!/bin/sh
 *   '''exec' "/very/long/path/bin/python" "$0" "$@"
 */
static bool from_sh_trampoline(const char *rest, strlist_t *argv)
{
    const char *marker = strstr(rest, "\n'''exec' ");
    if (!marker) return false;
    const char *s = marker + strlen("\n'''exec' ");
    size_t n = *s == '"' ? strcspn(++s, "\"\n") : strcspn(s, " \n");
    char *py = xstrndup(s, n);
    bool ok = is_python(py);
    if (ok)
        strlist_push_owned(argv, py);
    else
        free(py);
    return ok;
}

bool interp_from_shebang(const char *head, strlist_t *argv)
{
    if (strncmp(head, "#!", 2) != 0) return false;
    const char *s = head + 2;
    while (isblank((unsigned char)*s)) s++;
    size_t line = strcspn(s, "\r\n");
    size_t prog = strcspn(s, " \t\r\n");
    char *interp = xstrndup(s, prog);
    const char *args = s + prog;
    size_t args_len = line - prog;
    bool ok = false;
    if (strcmp(base_name(interp), "env") == 0) {
        ok = from_env_line(args, args_len, argv);
    } else if (is_python(interp)) {
        strlist_push(argv, interp);
        push_words(argv, args, args_len);
        ok = true;
    } else if (strcmp(base_name(interp), "sh") == 0) {
        ok = from_sh_trampoline(s + line, argv);
    }
    free(interp);
    return ok;
}

/* Where execvp would find the program (PATH search for a bare name). */
static char *find_program(const char *name)
{
    if (strchr(name, '/')) return xstrdup(name);
    const char *path = getenv("PATH");
    if (!path) path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *p = path;;) {
        size_t n = strcspn(p, ":");
        char *cand = n ? xasprintf("%.*s/%s", (int)n, p, name) : xstrdup(name);
        struct stat st;
        if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0) return cand;
        free(cand);
        if (!p[n]) return NULL;
        p += n + 1;
    }
}

static bool read_head(const char *path, char *head, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    ssize_t n = read(fd, head, size - 1);
    close(fd);
    if (n < 0) return false;
    head[n] = '\0';
    return true;
}

static bool has_module_pytest(const strlist_t *words)
{
    for (size_t i = 1; i + 1 < words->len; i++)
        if (strcmp(words->items[i], "-m") == 0 && strcmp(words->items[i + 1], "pytest") == 0)
            return true;
    return false;
}

/* "python3 -X dev -m pytest": python3 and the options it reads before -m. */
static void from_python_word(const strlist_t *words, interp_t *it)
{
    size_t end = 1;
    for (size_t i = 1; i < words->len; i++)
        if (strcmp(words->items[i], "-m") == 0) {
            end = i;
            break;
        }
    for (size_t i = 0; i < end; i++) strlist_push(&it->argv, words->items[i]);
}

static void from_script(const strlist_t *words, interp_t *it)
{
    const char *cmd = words->items[0];
    char *path = find_program(cmd);
    char head[512];
    if (!path) {
        it->why_unknown = xasprintf("'%s' is not on PATH", cmd);
    } else if (!read_head(path, head, sizeof head) || !interp_from_shebang(head, &it->argv)) {
        it->why_unknown = xasprintf("'%s' is not a Python script (no python in its #! line)", path);
        strlist_clear(&it->argv);
    } else {
        it->runs_pytest = is_pytest_script(cmd) || has_module_pytest(words);
    }
    free(path);
}

void interp_of_words(const strlist_t *words, interp_t *it)
{
    memset(it, 0, sizeof *it);
    strlist_init(&it->argv);
    if (is_python(words->items[0])) {
        from_python_word(words, it);
        it->runs_pytest = has_module_pytest(words);
    } else {
        from_script(words, it);
    }
}

void interp_free(interp_t *it)
{
    strlist_free(&it->argv);
    free(it->why_unknown);
    memset(it, 0, sizeof *it);
}

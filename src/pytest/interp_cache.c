#include "pytest/interp_cache.h"
#include "base/buf.h"
#include "pytest/childenv.h"
#include "base/fs.h"
#include "base/strset.h"
#include "config/config.h"
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define INTERP_CACHE_FORMAT    "tep-interp-cache 1"
#define INTERP_CACHE_MAX_BYTES (1u << 20) /* an entry is a few KiB; more is not ours */
#define PATH_LINE              "tep-probe-path "
#define ANSWER_LINE            "tep-probe "

/* Whether a folder is one only we can change: a real folder (lstat: not a
 * link to one), ours, writable by nobody else. */
static bool dir_is_ours(const char *dir)
{
    struct stat st;
    return lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
           (st.st_mode & 022) == 0;
}

/* The job's copy in the state folder, or NULL when that folder is not one
 * this tool owns (see the header): ours alone, and marked by us. */
static char *job_file_in(const char *job_dir)
{
    if (!job_dir || !*job_dir || !dir_is_ours(job_dir)) return NULL;
    char *marker = fs_join(job_dir, STATE_DIR_MARKER);
    struct stat st;
    bool marked = lstat(marker, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid();
    free(marker);
    return marked ? fs_join(job_dir, INTERP_CACHE_JOB_FILE) : NULL;
}

/* The cache folder, made if need be, or NULL when there is none we trust:
 * ours, a real folder, writable by nobody else. */
static char *interp_cache_dir(void)
{
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    char *base = NULL;
    if (xdg && xdg[0] == '/')
        base = xstrdup(xdg);
    else if (home && home[0] == '/')
        base = fs_join(home, ".cache");
    if (!base) return NULL;
    char *dir = fs_join(base, "test-engine-pytest");
    free(base);
    if (fs_mkdirs(dir) && dir_is_ours(dir)) return dir;
    free(dir);
    return NULL;
}

/* "<what> <value>\n"; false when the value cannot be one line. */
static bool put_line(buf_t *b, const char *what, const char *value)
{
    if (strpbrk(value, "\n\r")) return false;
    buf_printf(b, "%s %s\n", what, value);
    return true;
}

/* Where the interpreter's first word resolves, as execvp finds it with the
 * probe's PATH; NULL when it does not (the probe then fails on its own). */
static char *resolve_exe(const char *word, const strlist_t *env)
{
    char cwd[PATH_MAX];
    if (strchr(word, '/'))
        return word[0] == '/' ? xstrdup(word) : getcwd(cwd, sizeof cwd) ? fs_join(cwd, word) : NULL;
    const char *path = childenv_get(env, "PATH");
    if (!path) path = "/bin:/usr/bin"; /* execvp's own default */
    for (const char *p = path;;) {
        size_t n = strcspn(p, ":");
        char *dir = n ? xstrndup(p, n) : xstrdup(getcwd(cwd, sizeof cwd) ? cwd : ".");
        char *candidate = fs_join(dir, word);
        free(dir);
        struct stat st;
        if (stat(candidate, &st) == 0 && S_ISREG(st.st_mode) && access(candidate, X_OK) == 0)
            return candidate;
        free(candidate);
        if (!p[n]) return NULL;
        p += n + 1;
    }
}

/* The variables that move Python's import path or its user site. */
static bool env_matters(const char *entry)
{
    return strncmp(entry, "PYTHON", 6) == 0 || strncmp(entry, "VIRTUAL_ENV=", 12) == 0 ||
           strncmp(entry, "HOME=", 5) == 0;
}

/* The key: everything that selects an entry. false when it cannot be one. */
static bool build_key(buf_t *b, const strlist_t *python, const char *probe, const strlist_t *env,
                      char **exe)
{
    char cwd[PATH_MAX];
    char hash[32];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)strset_hash(probe));
    bool ok = put_line(b, "format", INTERP_CACHE_FORMAT) && put_line(b, "version", TEP_VERSION) &&
              put_line(b, "probe", hash) && getcwd(cwd, sizeof cwd) && put_line(b, "cwd", cwd);
    for (size_t i = 0; ok && i < python->len; i++) ok = put_line(b, "word", python->items[i]);
    *exe = ok && python->len ? resolve_exe(python->items[0], env) : NULL;
    ok = ok && *exe && put_line(b, "exe", *exe);
    strlist_t vars = STRLIST_INIT;
    for (size_t i = 0; ok && i < env->len; i++)
        if (env_matters(env->items[i])) strlist_push(&vars, env->items[i]);
    strlist_sort(&vars); /* the same environment in any order is the same key */
    for (size_t i = 0; ok && i < vars.len; i++) ok = put_line(b, "env", vars.items[i]);
    strlist_free(&vars);
    return ok;
}

/* Whether a folder entry can change the probe's answer (see the header). */
static bool name_matters(const char *name)
{
    static const char *const prefixes[] = {"pytest", "_pytest", "buildkite_test_collector"};
    static const char *const suffixes[] = {".dist-info", ".egg-info", ".egg-link", ".egg", ".pth"};
    for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++)
        if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0) return true;
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
        size_t k = strlen(suffixes[i]);
        if (n > k && strcmp(name + n - k, suffixes[i]) == 0) return true;
    }
    return false;
}

static long long mtime_ns(const struct stat *st)
{
    return (long long)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
}

/* A folder's stamp: how many entries matter and a sum of their hashes (name,
 * inode, mtime), so the order readdir lists them in does not count; a file
 * on the path (a zip) is stamped by its own inode, size and mtime; "-" when
 * there is nothing there. */
static void path_stamp(const char *path, char *out, size_t size)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(out, size, "-");
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(out, size, "f%llu:%lld:%lld", (unsigned long long)st.st_ino, (long long)st.st_size,
                 mtime_ns(&st));
        return;
    }
    DIR *d = opendir(path);
    if (!d) {
        snprintf(out, size, "?");
        return;
    }
    unsigned long long sum = 0, count = 0;
    int dfd = dirfd(d);
    for (struct dirent *e = readdir(d); e; e = readdir(d)) {
        if (!name_matters(e->d_name)) continue;
        struct stat es;
        char entry[512];
        if (fstatat(dfd, e->d_name, &es, AT_SYMLINK_NOFOLLOW) == 0)
            snprintf(entry, sizeof entry, "%s/%llu/%lld", e->d_name, (unsigned long long)es.st_ino,
                     mtime_ns(&es));
        else
            snprintf(entry, sizeof entry, "%s/gone", e->d_name);
        sum += strset_hash(entry);
        count++;
    }
    closedir(d);
    snprintf(out, size, "d%llu:%llu:%016llx", (unsigned long long)st.st_ino, count, sum);
}

/* The entry's head (its key and the interpreter's stamp) and where the
 * user cache keeps it; false when the interpreter does not resolve. */
static bool build_head(interp_cache_t *c, const strlist_t *python, const char *probe,
                       const strlist_t *env)
{
    buf_t key = BUF_INIT;
    char *exe = NULL;
    struct stat st;
    bool ok = build_key(&key, python, probe, env, &exe) && stat(exe, &st) == 0;
    if (ok) {
        char *dir = interp_cache_dir();
        c->file =
            dir ? xasprintf("%s/probe-%016llx.txt", dir, (unsigned long long)strset_hash(key.data))
                : NULL;
        free(dir);
        buf_printf(&key, "exe-stamp %llu:%llu:%lld:%lld\n", (unsigned long long)st.st_dev,
                   (unsigned long long)st.st_ino, (long long)st.st_size, mtime_ns(&st));
        c->head = buf_detach(&key);
    }
    free(exe);
    buf_free(&key);
    return ok;
}

/* The entry's text when it is a regular file of ours, that nobody else can
 * write, of a sane size. */
static char *read_entry(const char *path)
{
    if (!path) return NULL;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return NULL;
    struct stat st;
    char *text = NULL;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
        (st.st_mode & 022) == 0 && (size_t)st.st_size < INTERP_CACHE_MAX_BYTES) {
        text = xmalloc((size_t)st.st_size + 1);
        ssize_t n = read(fd, text, (size_t)st.st_size);
        if (n == st.st_size) {
            text[n] = '\0';
        } else {
            free(text);
            text = NULL;
        }
    }
    close(fd);
    return text;
}

/* Whether every stamp line of body still describes its path. */
static bool stamps_hold(const char *body)
{
    bool ok = true;
    size_t stamps = 0;
    for (const char *line = body; ok && *line;) {
        const char *end = strchr(line, '\n');
        if (!end) return false; /* a cut entry */
        if (strncmp(line, PATH_LINE, strlen(PATH_LINE)) == 0) {
            const char *stamp = line + strlen(PATH_LINE);
            const char *space = memchr(stamp, ' ', (size_t)(end - stamp));
            char *path = space ? xstrndup(space + 1, (size_t)(end - space - 1)) : NULL;
            char now[96];
            if (path) path_stamp(path, now, sizeof now);
            ok = path && strlen(now) == (size_t)(space - stamp) &&
                 strncmp(now, stamp, (size_t)(space - stamp)) == 0;
            free(path);
            stamps++;
        }
        line = end + 1;
    }
    return ok && stamps > 0;
}

/* The answer of the entry at path when it is ours, has c's head, and its
 * stamps still hold; NULL otherwise. */
static char *entry_answer(const interp_cache_t *c, const char *path)
{
    char *text = read_entry(path);
    size_t n = strlen(c->head);
    bool hit = text && strncmp(text, c->head, n) == 0 && stamps_hold(text + n) &&
               strstr(text + n, "\n" ANSWER_LINE);
    char *answer = hit ? xstrdup(text + n) : NULL;
    free(text);
    return answer;
}

bool interp_cache_lookup(interp_cache_t *c, const char *job_dir, const strlist_t *python,
                         const char *probe, const strlist_t *env, char **answer)
{
    memset(c, 0, sizeof *c);
    *answer = NULL;
    if (!build_head(c, python, probe, env)) return false;
    c->job_file = job_file_in(job_dir);
    *answer = entry_answer(c, c->job_file); /* the job's first: plan asked in this job */
    if (!*answer) *answer = entry_answer(c, c->file);
    return *answer != NULL;
}

bool interp_cache_can_store(const interp_cache_t *c)
{
    return c->head && (c->file || c->job_file);
}

/* Writes an entry atomically (fs.h: never through a link), readable and
 * writable by us alone whatever the umask: read_entry refuses anything else. */
static void write_entry(const char *path, const buf_t *b)
{
    if (!path) return;
    fs_atomic_t w;
    if (!fs_atomic_begin(&w, path)) return;
    if (fchmod(fileno(w.f), 0600) != 0 || fwrite(b->data, 1, b->len, w.f) != b->len) {
        fs_atomic_abandon(&w);
        return;
    }
    fs_atomic_finish(&w);
}

void interp_cache_store(const interp_cache_t *c, const char *output)
{
    if (!interp_cache_can_store(c) || strstr(output, "tep-probe-nocache")) return;
    buf_t b = BUF_INIT;
    buf_puts(&b, c->head);
    size_t stamps = 0;
    bool answered = false;
    for (const char *line = output; *line;) {
        size_t n = strcspn(line, "\n");
        if (strncmp(line, PATH_LINE, strlen(PATH_LINE)) == 0 && !answered) {
            char *path = xstrndup(line + strlen(PATH_LINE), n - strlen(PATH_LINE));
            char stamp[96];
            path_stamp(path, stamp, sizeof stamp);
            buf_printf(&b, PATH_LINE "%s %s\n", stamp, path);
            free(path);
            stamps++;
        } else if (strncmp(line, ANSWER_LINE, strlen(ANSWER_LINE)) == 0 && !answered) {
            buf_append(&b, line, n);
            buf_putc(&b, '\n');
            answered = true;
        }
        line += n + (line[n] == '\n');
    }
    /* Only a whole answer after its folders: lookup checks both. */
    if (answered && stamps) {
        write_entry(c->file, &b);
        write_entry(c->job_file, &b);
    }
    buf_free(&b);
}

void interp_cache_free(interp_cache_t *c)
{
    free(c->file);
    free(c->job_file);
    free(c->head);
    memset(c, 0, sizeof *c);
}

#include "state/state_dir.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/fs.h"
#include "base/json_get.h"
#include "base/strlist.h"
#include "pytest/interp_cache.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* STATE_DIR_MARKER (settings.h) marks a folder this tool owns: it made it,
 * or took it empty. Created exclusively, so a folder is never taken over
 * because a marker appeared in it; refused places (the checkout and its
 * parents, $HOME, /) are never owned whatever they hold. */
#define GITIGNORE_TEXT "*\n"
/* Room kept for run.json on a disk that fills up (see state_dir.h). */
#define RESERVE_NAME ".run.json.reserve"

char *state_dir_file(const config_t *cfg, const char *name)
{
    return fs_join(cfg->state_dir, name);
}

/* A job id that is no plain name (config.c) leaves no usable state dir. */
static bool check_usable(const config_t *cfg, char **err)
{
    if (!cfg->state_dir_problem) return true;
    return err_set(err, "%s", cfg->state_dir_problem);
}

/* ---- places that are never a state folder ---- */

/* Whether `inner` is `outer` or below it (both resolved, no trailing '/'). */
static bool is_within(const char *inner, const char *outer)
{
    size_t n = strlen(outer);
    if (strcmp(outer, "/") == 0) return true;
    return strncmp(inner, outer, n) == 0 && (inner[n] == '\0' || inner[n] == '/');
}

/* Why an existing folder must never be the state folder: it is /, $HOME, the
 * checkout (the directory the phase runs in, or the agent's checkout path)
 * or a folder above it. Removing "its own files" there could still take a
 * user's run.json, and a marker there is never ours. NULL when it may be. */
static const char *refused_place(const char *path)
{
    char *real = realpath(path, NULL);
    if (!real) return NULL; /* not there yet: it cannot be any of them */
    const char *why = NULL;
    const char *home = getenv("HOME");
    char *real_home = home && *home ? realpath(home, NULL) : NULL;
    char *cwd = getcwd(NULL, 0);
    const char *agent = getenv("BUILDKITE_BUILD_CHECKOUT_PATH");
    char *real_agent = agent && *agent ? realpath(agent, NULL) : NULL;
    if (strcmp(real, "/") == 0)
        why = "is the root folder";
    else if (real_home && strcmp(real, real_home) == 0)
        why = "is the home folder";
    else if ((cwd && is_within(cwd, real)) || (real_agent && is_within(real_agent, real)))
        why = "is the checkout or a folder above it";
    free(real);
    free(real_home);
    free(cwd);
    free(real_agent);
    return why;
}

static bool check_place(const config_t *cfg, char **err)
{
    const char *why = refused_place(cfg->state_dir);
    if (!why) return true;
    return err_set(err,
                   "state directory '%s' %s; the state folder holds only this tool's files and is "
                   "removed after the job: set BUILDKITE_TEST_ENGINE_STATE_DIR (state-dir) to a "
                   "folder of its own, or leave it unset",
                   cfg->state_dir, why);
}

/* ---- prepare ---- */

/* A state folder someone else can write to could hand us a slice to run:
 * it must be a real directory (not a link), writable by its owner alone, and
 * that owner is us or the owner of the checkout (a container often runs as
 * another user than the agent that made the folder before it). */
static bool check_dir_safe(const char *path, char **err)
{
    struct stat st;
    struct stat top;
    if (lstat(path, &st) != 0)
        return err_set(err, "state directory '%s': cannot read it (%s)", path, strerror(errno));
    bool trusted_owner =
        st.st_uid == geteuid() || (stat(".", &top) == 0 && st.st_uid == top.st_uid);
    const char *why = !S_ISDIR(st.st_mode) ? "is not a directory (a link or a file)"
                      : !trusted_owner     ? "belongs to another user"
                      : (st.st_mode & 022) ? "is writable by other users"
                                           : NULL;
    if (!why) return true;
    return err_set(err,
                   "state directory '%s' %s; remove it, or set BUILDKITE_TEST_ENGINE_STATE_DIR to "
                   "a directory only you can write",
                   path, why);
}

/* The message for a folder that cannot be made: a link on the way is named
 * as a link, a full disk as a full disk. */
static bool cannot_make(const char *path, int e, char **err)
{
    if (e == ELOOP)
        err_set(err,
                "state directory '%s' is not a directory (a link or a file): a folder on its way "
                "is a link; remove it, or set BUILDKITE_TEST_ENGINE_STATE_DIR to a directory only "
                "you can write",
                path);
    else if (fs_errno_is_full(e))
        err_set(err,
                "disk full: cannot create the state directory '%s' (%s); free space on that "
                "file system",
                path, strerror(e));
    else
        err_set(err, "BUILDKITE_TEST_ENGINE_STATE_DIR '%s': cannot create it (%s)", path,
                strerror(e));
    errno = e; /* the caller's exit status tells a full disk by it */
    return false;
}

/* The state lives in the user's checkout: a .gitignore of "*" inside keeps
 * it out of `git status` (and so out of the exit-4 forensics and any "is the
 * tree clean" check a pipeline makes). */
static void hide_from_git(void)
{
    const char *path = STATE_DIR_NAME "/.gitignore";
    if (!fs_exists(path)) fs_write_file(path, GITIGNORE_TEXT, strlen(GITIGNORE_TEXT));
}

/* Whether a folder holds nothing at all. */
static bool dir_is_empty(int dirfd)
{
    int fd = dup(dirfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0) close(fd);
        return false;
    }
    bool empty = true;
    struct dirent *e;
    while (empty && (e = readdir(d)) != NULL)
        empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
    closedir(d);
    return empty;
}

static bool has_marker(int dirfd)
{
    struct stat st;
    return fstatat(dirfd, STATE_DIR_MARKER, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

/* Takes the folder: ours when we made it or it already has our marker; an
 * empty one is taken by creating the marker exclusively; one holding anything
 * else is the user's and refused (cleanup would not remove it, and a run
 * must not mix its files with the user's). */
static bool take_ownership(const config_t *cfg, bool made, char **err)
{
    int fd = open(cfg->state_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return err_set(err, "state directory '%s': cannot open it (%s)", cfg->state_dir,
                       strerror(errno));
    bool ok = true;
    if (!has_marker(fd)) {
        if (!made && !dir_is_empty(fd)) {
            close(fd);
            return err_set(err,
                           "state directory '%s' already holds files this tool did not write; "
                           "give BUILDKITE_TEST_ENGINE_STATE_DIR (state-dir) a new or empty "
                           "folder, or leave it unset",
                           cfg->state_dir);
        }
        int m = openat(fd, STATE_DIR_MARKER, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                       0600);
        ok = m >= 0 || (errno == EEXIST && has_marker(fd)); /* another phase took it just now */
        int e = errno;
        if (!ok) {
            char *marker = state_dir_file(cfg, STATE_DIR_MARKER);
            state_dir_write_error(marker, e, err);
            free(marker);
        }
        if (m >= 0) close(m);
        errno = e;
    }
    int e = errno;
    close(fd);
    errno = e; /* the caller's exit status tells a full disk by it */
    return ok;
}

static bool make_results(const config_t *cfg, char **err)
{
    char *results = state_dir_file(cfg, "results");
    bool ok = fs_mkdir_path(results, NULL);
    int saved = errno;
    if (!ok) cannot_make(results, saved, err);
    free(results);
    return ok;
}

bool state_dir_prepare(const config_t *cfg, char **err)
{
    if (!check_usable(cfg, err) || !check_place(cfg, err)) return false;
    /* Nothing is created inside the folder until it is checked: a link in
     * its place gets nothing made in its target. */
    bool made = false;
    if (!fs_mkdir_path(cfg->state_dir, &made)) return cannot_make(cfg->state_dir, errno, err);
    /* The shared top folder of the default place is checked too: whoever
     * can write it can swap this job's folder for their own. */
    if (!cfg->state_dir_chosen) {
        if (!check_dir_safe(STATE_DIR_NAME, err)) return false;
        hide_from_git();
    }
    if (!check_dir_safe(cfg->state_dir, err) || !take_ownership(cfg, made, err) ||
        !make_results(cfg, err))
        return false;
    state_dir_reserve(cfg);
    return true;
}

/* ---- lock and locate ---- */

bool state_dir_lock(const config_t *cfg, char **err)
{
    if (!check_usable(cfg, err)) return false;
    char *path = state_dir_file(cfg, "lock");
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    free(path);
    /* On success the descriptor stays open: the lock lasts as long as this
     * process, and goes with it however it ends. */
    if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0) return true;
    if (fd >= 0) close(fd);
    return err_set(err,
                   "another test-engine-pytest run is using %s; wait for it, or give this run its "
                   "own BUILDKITE_TEST_ENGINE_STATE_DIR",
                   cfg->state_dir);
}

/* Whether <dir>/<state dir>/slice.json exists; dir "" is the root. */
static bool has_slice(const char *dir, const config_t *cfg)
{
    char *candidate = xasprintf("%s/%s/slice.json", dir, cfg->state_dir);
    bool found = fs_exists(candidate);
    free(candidate);
    return found;
}

/* Without an explicit state dir, a command started in a subdirectory of the
 * checkout (`cd services/api && test-engine-pytest run`) still finds the
 * slice the plan phase wrote at the checkout's top, and runs from there, where
 * the slice's paths are relative to. */
char *state_dir_locate(const config_t *cfg)
{
    if (cfg->state_dir_problem || cfg->state_dir_chosen || fs_is_dir(cfg->state_dir)) return NULL;
    char *cwd = getcwd(NULL, 0);
    if (!cwd) return NULL; /* nowhere to search from: the state dir stays here */
    char *moved_to = NULL;
    /* Cut the last component off cwd until a parent has the slice; "" is "/". */
    for (char *slash = strrchr(cwd, '/'); slash && !moved_to; slash = strrchr(cwd, '/')) {
        *slash = '\0';
        const char *dir = *cwd ? cwd : "/";
        if (has_slice(cwd, cfg) && chdir(dir) == 0) moved_to = xstrdup(dir);
    }
    free(cwd);
    return moved_to;
}

/* ---- cleanup: this tool's files, by name ---- */

/* Digits, at least one, then end or `rest`. Returns what follows, or NULL. */
static const char *skip_digits(const char *s)
{
    if (*s < '0' || *s > '9') return NULL;
    while (*s >= '0' && *s <= '9') s++;
    return s;
}

/* results/: "attempt-<k>.<ext>" and "attempt-<k>.part-<j>.<ext>" (run_attempt.c),
 * each possibly with the ".lock" the collector's --merge-json leaves, or the
 * ".index" the run phase writes for the report phase (results_index.h). */
static bool is_result_name(const char *name)
{
    if (strncmp(name, "attempt-", 8) != 0) return false;
    const char *s = skip_digits(name + 8);
    if (s && strncmp(s, ".part-", 6) == 0) s = skip_digits(s + 6);
    if (!s) return false;
    static const char *const ends[] = {".json",     ".xml",        ".json.lock",
                                       ".xml.lock", ".json.index", ".xml.index"};
    for (size_t i = 0; i < sizeof ends / sizeof *ends; i++)
        if (!strcmp(s, ends[i])) return true;
    return false;
}

/* ... and the temporary file of one of them whose writer was killed (fs.h). */
bool state_dir_is_result_name(const char *name)
{
    if (!fs_atomic_is_temp(name)) return is_result_name(name);
    const char *mark = strrchr(name, '.'); /* ".tep-XXXXXX" */
    char *base = xstrndup(name + 1, (size_t)(mark - name - 1));
    bool ours = is_result_name(base);
    free(base);
    return ours;
}

char *state_dir_result_file(const char *rel)
{
    if (!rel || strncmp(rel, "results/", 8) != 0) return NULL;
    const char *name = rel + 8;
    size_t n = strlen(name);
    bool lock = n > 5 && strcmp(name + n - 5, ".lock") == 0;
    return state_dir_is_result_name(name) && !lock ? xstrdup(rel) : NULL;
}

static bool has_prefix_suffix(const char *name, const char *prefix, const char *suffix)
{
    size_t n = strlen(name), p = strlen(prefix), x = strlen(suffix);
    return n > p + x && !strncmp(name, prefix, p) && !strcmp(name + n - x, suffix) &&
           !strchr(name, '/');
}

/* The state folder's own files: the phases' JSON files, the lock, the
 * result-mode probe's answer (interp_cache.h), the per-job durations
 * artifact (report_durations.h), the retry selectors artifacts published or
 * downloaded (retrysel.c), and temporary files of a write that was cut
 * short (fs.h). The marker goes last, on its own. */
bool state_dir_is_own_name(const char *name)
{
    static const char *const exact[] = {"slice.json", "options.json",        "run.json",
                                        "lock",       INTERP_CACHE_JOB_FILE, RESERVE_NAME};
    for (size_t i = 0; i < sizeof exact / sizeof *exact; i++)
        if (!strcmp(name, exact[i])) return true;
    return has_prefix_suffix(name, "test-engine-pytest-durations-", ".json") ||
           has_prefix_suffix(name, "retry-selectors-", ".txt") || fs_atomic_is_temp(name);
}

/* What cleanup left, for its one-line note (the first few names, sorted). */
typedef struct {
    strlist_t names;
    size_t count;
} leftovers_t;

static void note_left(leftovers_t *left, const char *prefix, const char *name, bool is_dir)
{
    left->count++;
    strlist_push_owned(&left->names, xasprintf("%s%s%s", prefix, name, is_dir ? "/" : ""));
}

/* "a, b, c, ..." */
static char *leftover_names(leftovers_t *left)
{
    strlist_sort(&left->names);
    buf_t b = BUF_INIT;
    for (size_t i = 0; i < left->names.len && i < 3; i++)
        buf_printf(&b, "%s%s", i ? ", " : "", left->names.items[i]);
    if (left->names.len > 3) buf_puts(&b, ", ...");
    return buf_detach(&b);
}

/* Removes the entries of dirfd that `own` names (files only, never through
 * a link: unlinkat removes the link itself); notes the others. */
static void remove_named(int dirfd, bool (*own)(const char *), const char *prefix,
                         leftovers_t *left)
{
    int fd = dup(dirfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0) close(fd);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *name = e->d_name;
        if (!strcmp(name, ".") || !strcmp(name, "..") || !strcmp(name, STATE_DIR_MARKER)) continue;
        if (prefix[0] == '\0' && !strcmp(name, "results")) continue; /* handled on its own */
        struct stat st;
        bool is_dir = fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
        if (is_dir || !own(name) || unlinkat(dirfd, name, 0) != 0)
            note_left(left, prefix, name, is_dir);
    }
    closedir(d);
}

/* results/: our result files, then the folder itself when that empties it. */
static void remove_results(int state_fd, leftovers_t *left)
{
    int fd = openat(state_fd, "results", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        struct stat st;
        if (fstatat(state_fd, "results", &st, AT_SYMLINK_NOFOLLOW) == 0)
            note_left(left, "", "results", S_ISDIR(st.st_mode)); /* a link or a file: not ours */
        return;
    }
    size_t before = left->count;
    remove_named(fd, state_dir_is_result_name, "results/", left);
    close(fd);
    if (left->count == before && unlinkat(state_fd, "results", AT_REMOVEDIR) != 0)
        note_left(left, "", "results", true);
}

/* The shared top folder goes when no other job's state is left in it (and
 * its .gitignore only when it is the one we write). */
static void remove_top_if_unused(void)
{
    DIR *d = opendir(STATE_DIR_NAME);
    if (!d) return;
    bool only_ours = true;
    struct dirent *e;
    while (only_ours && (e = readdir(d)) != NULL)
        only_ours =
            !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, ".gitignore");
    closedir(d);
    if (!only_ours) return;
    char *text = fs_read_file_max(STATE_DIR_NAME "/.gitignore", 64, NULL);
    if (text && strcmp(text, GITIGNORE_TEXT) == 0) unlink(STATE_DIR_NAME "/.gitignore");
    free(text);
    rmdir(STATE_DIR_NAME);
}

bool state_dir_cleanup(const config_t *cfg, char **note, char **err)
{
    *note = NULL;
    if (!check_usable(cfg, err)) return false;
    if (refused_place(cfg->state_dir)) return true; /* never ours, whatever it holds */
    bool removed = true;
    int fd = open(cfg->state_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    /* Not there, a link, or without our marker: not ours (or never made). */
    if (fd >= 0 && has_marker(fd)) {
        leftovers_t left = {STRLIST_INIT, 0};
        remove_results(fd, &left);
        remove_named(fd, state_dir_is_own_name, "", &left);
        if (left.count == 0) {
            unlinkat(fd, STATE_DIR_MARKER, 0);
            if (rmdir(cfg->state_dir) != 0 && errno != ENOENT)
                removed = err_set(err, "cannot remove %s (%s)", cfg->state_dir, strerror(errno));
        } else {
            char *names = leftover_names(&left);
            *note = xasprintf("kept %s: it holds what this tool did not write (%s); only this "
                              "tool's own files were removed",
                              cfg->state_dir, names);
            free(names);
        }
        strlist_free(&left.names);
    }
    if (fd >= 0) close(fd);
    if (!cfg->state_dir_chosen) remove_top_if_unused();
    return removed;
}

/* ---- the JSON files ---- */

bool state_dir_write_error(const char *path, int e, char **err)
{
    if (fs_errno_is_full(e))
        err_set(err, "disk full: cannot write %s (%s); free space on that file system", path,
                strerror(e));
    else
        err_set(err, "cannot write %s (%s)", path, strerror(e));
    errno = e; /* the caller's status depends on it */
    return false;
}

/* ---- a full disk ---- */

int state_dir_exit_status(const config_t *cfg, int e)
{
    return fs_errno_is_full(e) ? STATE_DIR_EXIT_DISK_FULL : (int)cfg->config_exit_status;
}

bool state_dir_is_full(const config_t *cfg)
{
    struct statvfs v;
    if (statvfs(cfg->state_dir, &v) != 0) return false;
    /* Less than 64 KiB for us: a result file being written there was cut. */
    return (unsigned long long)v.f_bavail * v.f_frsize < (64ULL << 10);
}

void state_dir_reserve(const config_t *cfg)
{
    char *path = state_dir_file(cfg, RESERVE_NAME);
    int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0 && posix_fallocate(fd, 0, STATE_DIR_RESERVE_BYTES) != 0) {
        close(fd);
        fd = -1;
        unlink(path); /* no room: nothing reserved, nothing left */
    }
    if (fd >= 0) close(fd);
    free(path);
}

bool state_dir_release_reserve(const config_t *cfg)
{
    char *path = state_dir_file(cfg, RESERVE_NAME);
    bool had = unlink(path) == 0;
    free(path);
    return had;
}

bool state_dir_version_is(const cJSON *o, int version)
{
    /* Exactly: NaN (absent, not a number) and 2.5 are not version 2. */
    return json_get_num(o, "version") == (double)version;
}

/* The checks of state_dir_read_json on a file that is there. */
static bool check_state_json(const cJSON *root, const char *path, int version, char **err)
{
    if (!cJSON_IsObject(root))
        return err_set(err, "%s is not valid JSON; run the earlier phase again", path);
    if (!state_dir_version_is(root, version))
        return err_set(err,
                       "%s was written by another version of test-engine-pytest; run the plan "
                       "phase again",
                       path);
    return true;
}

bool state_dir_read_json(const config_t *cfg, const char *name, int version, cJSON **out,
                         char **err)
{
    *out = NULL;
    if (!check_usable(cfg, err)) return false;
    char *path = state_dir_file(cfg, name);
    char *text = fs_read_file(path, NULL);
    bool ok = true;
    if (!text && errno == EFBIG)
        ok = err_set(err,
                     "%s is larger than %lu MiB; it is not one this tool wrote: run the "
                     "earlier phase again",
                     path, FS_READ_MAX >> 20);
    else if (!text && errno != ENOENT) /* absent is fine: nothing to read */
        ok =
            err_set(err, "cannot read %s (%s); run the earlier phase again", path, strerror(errno));
    if (text) {
        cJSON *root = cJSON_Parse(text);
        ok = check_state_json(root, path, version, err);
        if (ok)
            *out = root;
        else
            cJSON_Delete(root);
    }
    free(text);
    free(path);
    return ok;
}

bool state_dir_write_json(const config_t *cfg, const char *name, const cJSON *root, char **err)
{
    if (!check_usable(cfg, err)) return false;
    char *json = cJSON_PrintUnformatted(root);
    char *path = state_dir_file(cfg, name);
    bool ok = fs_write_file(path, json, strlen(json));
    int e = errno;
    if (!ok) state_dir_write_error(path, e, err);
    free(path);
    free(json);
    errno = e;
    return ok;
}

#include "state_dir.h"
#include "buf.h"
#include "err.h"
#include "fs.h"
#include "json_get.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* Marks a folder this tool made, so cleanup never removes one it did not. */
#define STATE_DIR_MARKER ".test-engine-pytest-state"

char *state_dir_file(const config_t *cfg, const char *name)
{
    return fs_join(cfg->state_dir, name);
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

static bool make_state_dir(const config_t *cfg, char **err)
{
    char *results = state_dir_file(cfg, "results");
    bool ok = fs_mkdirs(results);
    int saved = errno;
    free(results);
    if (ok) return true;
    return err_set(err, "BUILDKITE_TEST_ENGINE_STATE_DIR '%s': cannot create it (%s)",
                   cfg->state_dir, strerror(saved));
}

/* The state lives in the user's checkout: a .gitignore of "*" inside keeps
 * it out of `git status` (and so out of the exit-4 forensics and any "is the
 * tree clean" check a pipeline makes). */
static void hide_from_git(void)
{
    const char *path = STATE_DIR_NAME "/.gitignore";
    if (!fs_exists(path)) fs_write_file(path, "*\n", 2);
}

static bool mark_as_ours(const config_t *cfg, char **err)
{
    char *marker = state_dir_file(cfg, STATE_DIR_MARKER);
    bool ok = fs_exists(marker) || fs_write_file(marker, "", 0);
    if (!ok) err_set(err, "cannot write %s (%s)", marker, strerror(errno));
    free(marker);
    return ok;
}

bool state_dir_prepare(const config_t *cfg, char **err)
{
    if (!make_state_dir(cfg, err)) return false;
    /* The shared top folder of the default place is checked too: whoever
     * can write it can swap this job's folder for their own. */
    if (!cfg->state_dir_chosen) {
        if (!check_dir_safe(STATE_DIR_NAME, err)) return false;
        hide_from_git();
    }
    if (!check_dir_safe(cfg->state_dir, err)) return false;
    return mark_as_ours(cfg, err);
}

/* ---- lock and locate ---- */

bool state_dir_lock(const config_t *cfg, char **err)
{
    char *path = state_dir_file(cfg, "lock");
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
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
    if (cfg->state_dir_chosen || fs_is_dir(cfg->state_dir)) return NULL;
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

/* ---- cleanup ---- */

static int remove_tree_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* The shared top folder goes when no other job's state is left in it. */
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
    unlink(STATE_DIR_NAME "/.gitignore");
    rmdir(STATE_DIR_NAME);
}

bool state_dir_cleanup(const config_t *cfg, char **err)
{
    char *marker = state_dir_file(cfg, STATE_DIR_MARKER);
    bool ours = fs_exists(marker);
    free(marker);
    /* Without our marker the folder is not ours (or was never made): leave it. */
    if (ours && nftw(cfg->state_dir, remove_tree_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        return err_set(err, "cannot remove %s (%s)", cfg->state_dir, strerror(errno));
    if (!cfg->state_dir_chosen) remove_top_if_unused();
    return true;
}

/* ---- the JSON files ---- */

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
    char *path = state_dir_file(cfg, name);
    char *text = fs_read_file(path, NULL);
    bool ok = true;
    if (!text && errno != ENOENT) /* absent is fine: nothing to read */
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
    char *json = cJSON_PrintUnformatted(root);
    char *path = state_dir_file(cfg, name);
    bool ok = fs_write_file(path, json, strlen(json));
    if (!ok) err_set(err, "cannot write %s (%s)", path, strerror(errno));
    free(path);
    free(json);
    return ok;
}

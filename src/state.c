#include "json_get.h"
#include "state.h"
#include "buf.h"
#include "fsutil.h"

#define STATE_VERSION 2
#define STATE_MARKER  ".test-engine-pytest-state"
#include <cjson/cJSON.h>
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

char *state_file(const config_t *cfg, const char *name)
{
    return fs_join(cfg->state_dir, name);
}

cJSON *state_read_json(const config_t *cfg, const char *name, char **err)
{
    *err = NULL;
    char *path = state_file(cfg, name);
    char *text = fs_read_file(path, NULL);
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    if (text && !cJSON_IsObject(root)) {
        *err = xasprintf("%s is not valid JSON; run the earlier phase again", path);
        cJSON_Delete(root);
        root = NULL;
    }
    free(text);
    free(path);
    return root;
}

/* A state folder someone else can write to could hand us a slice to run:
 * it must be a real directory (not a link), writable by its owner alone, and
 * that owner is us or the owner of the checkout (a container often runs as
 * another user than the agent that made the folder before it). */
static bool safe_dir(const char *path, char **err)
{
    struct stat st, top;
    if (lstat(path, &st) != 0) {
        *err = xasprintf("state directory '%s': cannot read it (%s)", path, strerror(errno));
        return false;
    }
    bool trusted_owner =
        st.st_uid == geteuid() || (stat(".", &top) == 0 && st.st_uid == top.st_uid);
    const char *why = !S_ISDIR(st.st_mode) ? "is not a directory (a link or a file)"
                      : !trusted_owner     ? "belongs to another user"
                      : (st.st_mode & 022) ? "is writable by other users"
                                           : NULL;
    if (why)
        *err = xasprintf(
            "state directory '%s' %s; remove it, or set BUILDKITE_TEST_ENGINE_STATE_DIR to a "
            "directory only you can write",
            path, why);
    return why == NULL;
}

/* The state lives in the user's checkout: a .gitignore of "*" inside keeps
 * it out of `git status` (and so out of the exit-4 forensics and any "is the
 * tree clean" check a pipeline makes). */
static void hide_from_git(void)
{
    const char *path = STATE_DIR_NAME "/.gitignore";
    if (!fs_exists(path)) fs_write_file(path, "*\n", 2);
}

bool state_prepare(const config_t *cfg, char **err)
{
    char *results = state_file(cfg, "results");
    bool ok = fs_mkdirs(results);
    if (!ok)
        *err = xasprintf("BUILDKITE_TEST_ENGINE_STATE_DIR '%s': cannot create it (%s)",
                         cfg->state_dir, strerror(errno));
    free(results);
    if (ok && !cfg->state_dir_chosen) ok = safe_dir(STATE_DIR_NAME, err);
    if (ok && !cfg->state_dir_chosen) hide_from_git();
    if (ok) ok = safe_dir(cfg->state_dir, err);
    char *marker = ok ? state_file(cfg, STATE_MARKER) : NULL;
    if (ok && !fs_exists(marker)) ok = fs_write_file(marker, "", 0);
    if (!ok && !*err) *err = xasprintf("cannot write %s (%s)", marker, strerror(errno));
    free(marker);
    return ok;
}

bool state_lock(const config_t *cfg, char **err)
{
    char *path = state_file(cfg, "lock");
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    bool ok = fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0;
    if (!ok)
        *err = xasprintf(
            "another test-engine-pytest run is using %s; wait for it, or give this run its own "
            "BUILDKITE_TEST_ENGINE_STATE_DIR",
            cfg->state_dir);
    if (!ok && fd >= 0) close(fd);
    free(path); /* on success the descriptor stays open: the lock lasts as long as this process */
    return ok;
}

/* Without an explicit state dir, a command started in a subdirectory of the
 * checkout (`cd services/api && test-engine-pytest run`) still finds the
 * slice the plan phase wrote at the checkout's top, and runs from there, where
 * the slice's paths are relative to. */
bool state_locate(const config_t *cfg, char **moved_to)
{
    *moved_to = NULL;
    if (cfg->state_dir_chosen || fs_is_dir(cfg->state_dir)) return true;
    char *cwd = getcwd(NULL, 0);
    if (!cwd) return false;
    bool found = false;
    for (char *slash = strrchr(cwd, '/'); slash && !found; slash = strrchr(cwd, '/')) {
        *slash = '\0';
        const char *dir = *cwd ? cwd : "/";
        char *candidate =
            xasprintf("%s/%s/slice.json", strcmp(dir, "/") ? dir : "", cfg->state_dir);
        found = fs_exists(candidate) && chdir(dir) == 0;
        if (found) *moved_to = xstrdup(dir);
        free(candidate);
        if (!*cwd) break;
    }
    free(cwd);
    return found;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
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

bool state_cleanup(const config_t *cfg, char **err)
{
    char *marker = state_file(cfg, STATE_MARKER);
    bool ours = fs_exists(marker);
    free(marker);
    /* Without our marker the folder is not ours (or was never made): leave it. */
    if (ours && nftw(cfg->state_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0) {
        *err = xasprintf("cannot remove %s (%s)", cfg->state_dir, strerror(errno));
        return false;
    }
    if (!cfg->state_dir_chosen) remove_top_if_unused();
    return true;
}

bool state_write_options(const config_t *cfg, char **err)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddNumberToObject(root, "version", STATE_VERSION);
    cJSON_AddItemToObject(root, "options", config_saved_options(cfg));
    char *json = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    char *path = state_file(cfg, "options.json");
    bool ok = fs_write_file(path, json, strlen(json));
    if (!ok) *err = xasprintf("cannot write %s (%s)", path, strerror(errno));
    free(path);
    free(json);
    return ok;
}

bool state_apply_options(config_t *cfg, char **err)
{
    cJSON *root = state_read_json(cfg, "options.json", err);
    if (!root) return *err == NULL;
    char *path = state_file(cfg, "options.json");
    const cJSON *version = cJSON_GetObjectItemCaseSensitive(root, "version");
    bool ok = cJSON_IsNumber(version) && version->valuedouble == STATE_VERSION;
    if (ok)
        config_apply_saved(cfg, cJSON_GetObjectItemCaseSensitive(root, "options"), path);
    else
        *err = xasprintf(
            "%s was written by another version of test-engine-pytest; run the plan phase again",
            path);
    free(path);
    cJSON_Delete(root);
    return ok;
}

bool slice_write(const config_t *cfg, const plan_t *p, char **err)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddNumberToObject(root, "version", STATE_VERSION);
    cJSON_AddStringToObject(root, "suite", cfg->suite_slug);
    cJSON_AddStringToObject(root, "source", plan_source_name(p->source));
    cJSON_AddStringToObject(root, "reason", p->reason);
    cJSON_AddBoolToObject(root, "from_server",
                          p->source == PLAN_SERVER_CACHED || p->source == PLAN_SERVER_CREATED);
    cJSON_AddStringToObject(root, "identifier", cfg->identifier);
    cJSON_AddNumberToObject(root, "job", (double)cfg->parallel_job);
    cJSON_AddNumberToObject(root, "parallelism", (double)cfg->parallel_job_count);
    cJSON *tests = cJSON_AddArrayToObject(root, "tests");
    const strlist_t *run = &p->tasks[cfg->parallel_job].run;
    for (size_t i = 0; i < run->len; i++)
        cJSON_AddItemToArray(tests, cJSON_CreateString(run->items[i]));
    cJSON *muted = cJSON_AddArrayToObject(root, "muted");
    for (size_t i = 0; i < p->n_muted; i++) {
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "scope", p->muted[i].scope);
        cJSON_AddStringToObject(m, "name", p->muted[i].name);
        cJSON_AddItemToArray(muted, m);
    }
    cJSON *skipped = cJSON_AddArrayToObject(root, "skipped");
    for (size_t i = 0; i < p->skipped.len; i++)
        cJSON_AddItemToArray(skipped, cJSON_CreateString(p->skipped.items[i]));
    char *json = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    char *path = state_file(cfg, "slice.json");
    bool ok = fs_write_file(path, json, strlen(json));
    if (!ok) *err = xasprintf("cannot write %s (%s)", path, strerror(errno));
    free(path);
    free(json);
    return ok;
}

bool slice_read(const config_t *cfg, slice_t *s, char **err)
{
    memset(s, 0, sizeof *s);
    strlist_init(&s->tests);
    strlist_init(&s->skipped);
    cJSON *root = state_read_json(cfg, "slice.json", err);
    if (!root) return false;
    const cJSON *version = cJSON_GetObjectItemCaseSensitive(root, "version");
    if (!cJSON_IsNumber(version) || version->valuedouble != STATE_VERSION) {
        *err = xasprintf(
            "%s/slice.json was written by another version of test-engine-pytest; run the plan "
            "phase again",
            cfg->state_dir);
        cJSON_Delete(root);
        return false;
    }
    s->suite = xstrdup(json_get_str(root, "suite"));
    s->source = xstrdup(json_get_str(root, "source"));
    s->reason = xstrdup(json_get_str(root, "reason"));
    s->identifier = xstrdup(json_get_str(root, "identifier"));
    s->from_server = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "from_server"));
    s->job = json_get_long(root, "job", 0, 1000000, -1);
    s->parallelism = json_get_long(root, "parallelism", 0, 1000000, -1);
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(root, "tests")) if (cJSON_IsString(t))
        strlist_push(&s->tests, t->valuestring);
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(root, "skipped")) if (cJSON_IsString(t))
        strlist_push(&s->skipped, t->valuestring);
    const cJSON *muted = cJSON_GetObjectItemCaseSensitive(root, "muted");
    int n = cJSON_GetArraySize(muted);
    s->muted = xcalloc((size_t)(n > 0 ? n : 1), sizeof(plan_test_ref_t));
    cJSON_ArrayForEach(t, muted)
    {
        s->muted[s->n_muted].scope = xstrdup(json_get_str(t, "scope"));
        s->muted[s->n_muted++].name = xstrdup(json_get_str(t, "name"));
    }
    cJSON_Delete(root);
    return true;
}

char *slice_mismatch(const config_t *cfg, const slice_t *s)
{
    if (strcmp(s->identifier, cfg->identifier) != 0)
        return xasprintf("plan identifier '%s', not '%s'", s->identifier, cfg->identifier);
    if (strcmp(s->suite, cfg->suite_slug) != 0)
        return xasprintf("suite '%s', not '%s'", s->suite, cfg->suite_slug);
    if (s->job != cfg->parallel_job || s->parallelism != cfg->parallel_job_count)
        return xasprintf("job %ld of %ld, not job %ld of %ld", s->job + 1, s->parallelism,
                         cfg->parallel_job + 1, cfg->parallel_job_count);
    return NULL;
}

void slice_free(slice_t *s)
{
    free(s->suite);
    free(s->source);
    free(s->reason);
    free(s->identifier);
    strlist_free(&s->tests);
    strlist_free(&s->skipped);
    for (size_t i = 0; i < s->n_muted; i++) {
        free(s->muted[i].scope);
        free(s->muted[i].name);
    }
    free(s->muted);
    memset(s, 0, sizeof *s);
}

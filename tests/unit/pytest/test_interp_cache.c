/* The probe cache: a hit only while the key (interpreter words and where
 * they resolve, working directory, probe text, the environment that moves
 * Python's import path) and every stamp (the interpreter file, the entries
 * of each import folder that can change the answer) are what they were; no
 * cache where the folder is not ours or the output is not a whole answer.
 * The job's copy in the state folder: the same entry, read first, kept
 * where no user cache is, and only in a folder of ours (marked) as a file
 * of ours. */
#include "unit.h"
#include "scratch.h"
#include "config/config.h"
#include "pytest/interp_cache.h"
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/time.h>

#define PROBE  "print('probe')"
#define ANSWER "tep-probe pytest=1 collector=0 registered=1"

typedef struct {
    char root[64];
    char cwd[PATH_MAX];
    char *bin, *site, *later, *cache, *job;
    char *home; /* HOME as it was: a test may take it away */
    strlist_t python, env;
} fixture_t;

static void write_text(const char *path, const char *text)
{
    assert_true(fs_write_file(path, text, strlen(text))); /* a new inode each time */
}

static int setup(void **state)
{
    fixture_t *f = xcalloc(1, sizeof *f);
    assert_non_null(getcwd(f->cwd, sizeof f->cwd));
    scratch_dir(f->root, sizeof f->root, "tep-interp-cache");
    assert_int_equal(chdir(f->root), 0);
    f->bin = xasprintf("%s/bin", f->root);
    f->site = xasprintf("%s/site", f->root);
    f->later = xasprintf("%s/later", f->root); /* on the path, not there yet */
    f->cache = xasprintf("%s/cache", f->root);
    f->job = xasprintf("%s/state", f->root); /* a state folder plan made: 0700, marked */
    assert_int_equal(mkdir(f->job, 0700), 0);
    char *marker = xasprintf("%s/" STATE_DIR_MARKER, f->job);
    write_text(marker, "");
    free(marker);
    assert_int_equal(mkdir(f->bin, 0700), 0);
    assert_int_equal(mkdir(f->site, 0700), 0);
    char *py = xasprintf("%s/python3", f->bin);
    write_text(py, "#!/bin/sh\n");
    assert_int_equal(chmod(py, 0700), 0);
    free(py);
    char *dist = xasprintf("%s/pytest-7.2.1.dist-info", f->site);
    assert_int_equal(mkdir(dist, 0700), 0);
    free(dist);
    setenv("XDG_CACHE_HOME", f->cache, 1);
    const char *home = getenv("HOME");
    f->home = home ? xstrdup(home) : NULL;
    strlist_push(&f->python, "python3");
    char *path = xasprintf("PATH=%s:/usr/bin", f->bin);
    strlist_push_owned(&f->env, path);
    strlist_push(&f->env, "PYTHONPATH=/src");
    strlist_push(&f->env, "HOME=/home/ci");
    strlist_push(&f->env, "UNRELATED=1");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(chdir(f->cwd), 0);
    scratch_dir_remove(f->root);
    unsetenv("XDG_CACHE_HOME");
    if (f->home) setenv("HOME", f->home, 1);
    free(f->home);
    free(f->bin);
    free(f->site);
    free(f->later);
    free(f->cache);
    free(f->job);
    strlist_free(&f->python);
    strlist_free(&f->env);
    free(f);
    return 0;
}

/* The probe's output for the fixture's folders. */
static char *probe_output(const fixture_t *f)
{
    return xasprintf("noise a plugin printed\ntep-probe-path %s\ntep-probe-path %s\n" ANSWER "\n",
                     f->site, f->later);
}

static bool lookup(fixture_t *f, const char *probe, char **answer)
{
    interp_cache_t c;
    bool hit = interp_cache_lookup(&c, NULL, &f->python, probe, &f->env, answer);
    interp_cache_free(&c);
    return hit;
}

static void store(fixture_t *f)
{
    interp_cache_t c;
    char *answer = NULL;
    assert_false(interp_cache_lookup(&c, NULL, &f->python, PROBE, &f->env, &answer));
    char *out = probe_output(f);
    interp_cache_store(&c, out);
    free(out);
    interp_cache_free(&c);
}

static bool hit(fixture_t *f)
{
    char *answer = NULL;
    bool got = lookup(f, PROBE, &answer);
    if (got) assert_non_null(strstr(answer, ANSWER));
    free(answer);
    return got;
}

static void kept_and_found_again(void **state)
{
    fixture_t *f = *state;
    assert_false(hit(f));
    store(f);
    assert_true(hit(f));
    assert_true(hit(f));
    char *answer = NULL;
    assert_true(lookup(f, PROBE, &answer));
    assert_null(strstr(answer, "noise")); /* only the stamps and the answer */
    free(answer);
}

static void a_package_installed_upgraded_or_removed_is_a_miss(void **state)
{
    fixture_t *f = *state;
    store(f);
    char *dist = xasprintf("%s/buildkite_test_collector-1.8.0.dist-info", f->site);
    assert_int_equal(mkdir(dist, 0700), 0); /* pip install */
    assert_false(hit(f));
    store(f);
    assert_true(hit(f));
    char *old = xasprintf("%s/pytest-7.2.1.dist-info", f->site);
    char *new = xasprintf("%s/pytest-8.0.0.dist-info", f->site);
    assert_int_equal(rename(old, new), 0); /* pip install -U */
    assert_false(hit(f));
    store(f);
    assert_int_equal(rmdir(dist), 0); /* pip uninstall */
    assert_false(hit(f));
    free(dist);
    free(old);
    free(new);
}

static void a_pth_file_rewritten_is_a_miss(void **state)
{
    fixture_t *f = *state;
    char *pth = xasprintf("%s/__editable__.collector.pth", f->site);
    write_text(pth, "/src/collector\n");
    store(f);
    assert_true(hit(f));
    write_text(pth, "/src/elsewhere\n"); /* rewritten in place of the old one */
    assert_false(hit(f));
    free(pth);
}

static void other_entries_do_not_count(void **state)
{
    fixture_t *f = *state;
    store(f);
    char *noise = xasprintf("%s/.test-engine-pytest", f->site);
    assert_int_equal(mkdir(noise, 0700), 0);
    char *readme = xasprintf("%s/README.txt", f->site);
    write_text(readme, "x");
    assert_true(hit(f));
    free(noise);
    free(readme);
}

static void a_folder_that_appears_is_a_miss(void **state)
{
    fixture_t *f = *state;
    store(f);
    assert_int_equal(mkdir(f->later, 0700), 0); /* a user site made after the probe */
    assert_false(hit(f));
}

static void a_new_interpreter_is_a_miss(void **state)
{
    fixture_t *f = *state;
    store(f);
    char *py = xasprintf("%s/python3", f->bin);
    write_text(py, "#!/bin/sh\n# upgraded\n");
    assert_int_equal(chmod(py, 0700), 0);
    assert_false(hit(f));
    free(py);
}

static void the_key_is_the_whole_environment_that_matters(void **state)
{
    fixture_t *f = *state;
    store(f);
    char *answer = NULL;
    assert_false(lookup(f, PROBE " collector", &answer)); /* another probe */
    strlist_t saved = f->env;
    f->env = STRLIST_INIT;
    for (size_t i = saved.len; i-- > 0;) strlist_push(&f->env, saved.items[i]);
    assert_true(hit(f)); /* the same variables in another order */
    strlist_push(&f->env, "NOT_PYTHON=2");
    assert_true(hit(f));
    strlist_push(&f->env, "PYTHONNOUSERSITE=1");
    assert_false(hit(f));
    strlist_free(&f->env);
    f->env = saved;
    assert_true(hit(f));
    strlist_push(&f->python, "-I");
    assert_false(hit(f)); /* other interpreter words */
    free(f->python.items[--f->python.len]);
    f->python.items[f->python.len] = NULL;
    assert_true(hit(f));
    assert_int_equal(mkdir("sub", 0700), 0);
    assert_int_equal(chdir("sub"), 0);
    assert_false(hit(f)); /* another working directory */
}

static void no_cache_where_it_cannot_be_trusted_or_the_answer_is_not_whole(void **state)
{
    fixture_t *f = *state;
    store(f);
    char *dir = xasprintf("%s/test-engine-pytest", f->cache);
    assert_int_equal(chmod(dir, 0777), 0); /* anyone could write answers there */
    assert_false(hit(f));
    assert_int_equal(chmod(dir, 0700), 0);
    assert_true(hit(f));
    free(dir);

    const char *bad[] = {"tep-probe-path /x\n", /* no answer */
                         ANSWER "\n",           /* no folder */
                         "tep-probe-nocache\ntep-probe-path /x\n" ANSWER "\n"};
    unsetenv("XDG_CACHE_HOME");
    setenv("XDG_CACHE_HOME", f->root, 1); /* a fresh cache */
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        interp_cache_t c;
        char *answer = NULL;
        assert_false(interp_cache_lookup(&c, NULL, &f->python, PROBE, &f->env, &answer));
        interp_cache_store(&c, bad[i]);
        interp_cache_free(&c);
        if (hit(f)) fail_msg("output %zu was kept", i);
    }
    setenv("XDG_CACHE_HOME", "relative/cache", 1); /* not a place to trust */
    const char *home = getenv("HOME");
    char *saved_home = home ? xstrdup(home) : NULL;
    unsetenv("HOME");
    interp_cache_t c;
    char *answer = NULL;
    assert_false(interp_cache_lookup(&c, NULL, &f->python, PROBE, &f->env, &answer));
    assert_null(c.file);
    interp_cache_free(&c);
    if (saved_home) setenv("HOME", saved_home, 1);
    free(saved_home);
}

static void a_cut_entry_is_a_miss(void **state)
{
    fixture_t *f = *state;
    store(f);
    interp_cache_t c;
    char *answer = NULL;
    assert_true(interp_cache_lookup(&c, NULL, &f->python, PROBE, &f->env, &answer));
    free(answer);
    size_t len = 0;
    char *text = fs_read_file(c.file, &len);
    assert_true(fs_write_file(c.file, text, len - 5)); /* the answer's end is gone */
    free(text);
    interp_cache_free(&c);
    assert_false(hit(f));
}

/* ---- the job's copy ---- */

static bool job_lookup(fixture_t *f, const char *job_dir, char **answer)
{
    interp_cache_t c;
    bool got = interp_cache_lookup(&c, job_dir, &f->python, PROBE, &f->env, answer);
    interp_cache_free(&c);
    return got;
}

static bool job_hit(fixture_t *f)
{
    char *answer = NULL;
    bool got = job_lookup(f, f->job, &answer);
    if (got) assert_non_null(strstr(answer, ANSWER));
    free(answer);
    return got;
}

/* Keeps output through a lookup with the job folder; returns whether that
 * lookup could keep it anywhere. */
static bool job_store_output(fixture_t *f, const char *output)
{
    interp_cache_t c;
    char *answer = NULL;
    bool hit_before = interp_cache_lookup(&c, f->job, &f->python, PROBE, &f->env, &answer);
    free(answer);
    assert_false(hit_before);
    bool can = interp_cache_can_store(&c);
    interp_cache_store(&c, output);
    interp_cache_free(&c);
    return can;
}

static bool job_store(fixture_t *f)
{
    char *out = probe_output(f);
    bool can = job_store_output(f, out);
    free(out);
    return can;
}

/* No user cache at all, as in a fresh container (HOME=/dev/null). */
static void no_user_cache(void)
{
    unsetenv("XDG_CACHE_HOME");
    setenv("HOME", "/dev/null", 1);
}

static char *job_file(const fixture_t *f)
{
    return xasprintf("%s/" INTERP_CACHE_JOB_FILE, f->job);
}

static void the_job_copy_answers_where_no_user_cache_is(void **state)
{
    fixture_t *f = *state;
    no_user_cache();
    interp_cache_t c;
    char *answer = NULL;
    assert_false(interp_cache_lookup(&c, f->job, &f->python, PROBE, &f->env, &answer));
    assert_null(c.file); /* no user cache */
    assert_non_null(c.job_file);
    assert_true(interp_cache_can_store(&c));
    char *out = probe_output(f);
    interp_cache_store(&c, out);
    free(out);
    interp_cache_free(&c);
    char *path = job_file(f);
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0600);
    free(path);
    assert_true(job_hit(f));
    assert_true(job_hit(f));
    assert_false(job_lookup(f, NULL, &answer)); /* it was kept in the job's folder alone */
    assert_null(answer);
}

static void the_job_copy_has_the_same_key_and_stamps(void **state)
{
    fixture_t *f = *state;
    no_user_cache();
    job_store(f);
    assert_true(job_hit(f));
    strlist_push(&f->env, "PYTHONNOUSERSITE=1"); /* run's environment is not plan's */
    assert_false(job_hit(f));
    free(f->env.items[--f->env.len]);
    f->env.items[f->env.len] = NULL;
    assert_true(job_hit(f));
    strlist_push(&f->env, "VIRTUAL_ENV=/ci/venv"); /* the step command activated a venv */
    assert_false(job_hit(f));
    free(f->env.items[--f->env.len]);
    f->env.items[f->env.len] = NULL;
    strlist_push(&f->python, "-I");
    assert_false(job_hit(f)); /* another interpreter */
    free(f->python.items[--f->python.len]);
    f->python.items[f->python.len] = NULL;
    assert_true(job_hit(f));
    char *answer = NULL;
    interp_cache_t c;
    assert_false(interp_cache_lookup(&c, f->job, &f->python, PROBE " collector", &f->env, &answer));
    interp_cache_free(&c);
    char *dist = xasprintf("%s/buildkite_test_collector-1.8.0.dist-info", f->site);
    assert_int_equal(mkdir(dist, 0700), 0); /* the step command ran pip install */
    assert_false(job_hit(f));
    free(dist);
}

static void the_job_copy_is_read_first_then_the_user_cache(void **state)
{
    fixture_t *f = *state;
    store(f); /* the user cache alone (no job folder given) */
    char *path = job_file(f);
    assert_false(fs_exists(path));
    assert_true(job_hit(f)); /* found in the user cache */
    char *other = xasprintf("tep-probe-path %s\ntep-probe-path %s\n"
                            "tep-probe pytest=1 collector=1 registered=1\n",
                            f->site, f->later);
    unsetenv("XDG_CACHE_HOME");
    setenv("XDG_CACHE_HOME", f->root, 1); /* another user cache: the job's copy is written */
    job_store_output(f, other);
    assert_true(fs_exists(path));
    setenv("XDG_CACHE_HOME", f->cache, 1); /* back: both hold an answer */
    char *answer = NULL;
    assert_true(job_lookup(f, f->job, &answer));
    assert_non_null(strstr(answer, "collector=1")); /* the job's */
    free(answer);
    free(other);
    free(path);
}

static void no_job_copy_where_it_is_not_ours(void **state)
{
    fixture_t *f = *state;
    no_user_cache();
    char *path = job_file(f);
    char *marker = xasprintf("%s/" STATE_DIR_MARKER, f->job);
    /* a folder without our marker is the user's: nothing written, nothing read */
    assert_int_equal(unlink(marker), 0);
    assert_false(job_store(f));
    assert_false(fs_exists(path));
    write_text(marker, "");
    assert_true(job_store(f));
    assert_true(job_hit(f));
    assert_int_equal(unlink(marker), 0);
    assert_false(job_hit(f));
    write_text(marker, "");
    assert_true(job_hit(f));
    /* a folder others can write */
    assert_int_equal(chmod(f->job, 0777), 0);
    assert_false(job_hit(f));
    assert_false(job_store(f));
    assert_int_equal(chmod(f->job, 0700), 0);
    assert_true(job_hit(f));
    /* a file others can write */
    assert_int_equal(chmod(path, 0666), 0);
    assert_false(job_hit(f));
    assert_int_equal(chmod(path, 0600), 0);
    assert_true(job_hit(f));
    /* the job folder given through a link */
    char *link = xasprintf("%s/state-link", f->root);
    assert_int_equal(symlink(f->job, link), 0);
    char *answer = NULL;
    assert_false(job_lookup(f, link, &answer));
    /* a link in the file's place, to a whole entry elsewhere */
    char *elsewhere = xasprintf("%s/entry.txt", f->root);
    assert_int_equal(rename(path, elsewhere), 0);
    assert_int_equal(symlink(elsewhere, path), 0);
    assert_false(job_hit(f));
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rename(elsewhere, path), 0);
    assert_true(job_hit(f));
    if (geteuid() == 0) { /* another user's file, and another user's folder */
        assert_int_equal(chown(path, 65534, 65534), 0);
        assert_false(job_hit(f));
        assert_int_equal(chown(path, 0, 0), 0);
        assert_true(job_hit(f));
        assert_int_equal(chown(f->job, 65534, 65534), 0);
        assert_false(job_hit(f));
        assert_int_equal(chown(f->job, 0, 0), 0);
        assert_true(job_hit(f));
    }
    free(elsewhere);
    free(link);
    free(marker);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        unit_test_fixture(kept_and_found_again),
        unit_test_fixture(a_package_installed_upgraded_or_removed_is_a_miss),
        unit_test_fixture(a_pth_file_rewritten_is_a_miss),
        unit_test_fixture(other_entries_do_not_count),
        unit_test_fixture(a_folder_that_appears_is_a_miss),
        unit_test_fixture(a_new_interpreter_is_a_miss),
        unit_test_fixture(the_key_is_the_whole_environment_that_matters),
        unit_test_fixture(a_cut_entry_is_a_miss),
        unit_test_fixture(no_cache_where_it_cannot_be_trusted_or_the_answer_is_not_whole),
        unit_test_fixture(the_job_copy_answers_where_no_user_cache_is),
        unit_test_fixture(the_job_copy_has_the_same_key_and_stamps),
        unit_test_fixture(the_job_copy_is_read_first_then_the_user_cache),
        unit_test_fixture(no_job_copy_where_it_is_not_ours),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

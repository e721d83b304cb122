/* state_dir: the folder the phases share. prepare makes it private, hidden
 * from git and marked as ours, and refuses one someone else could write;
 * the run lock is taken once; locate finds a parent's slice; cleanup removes
 * only what the tool made; the shared JSON reader refuses what it cannot use.
 * Each test runs in its own temp dir as the checkout. */
#include "unit.h"
#include "base/buf.h"
#include "config/config.h"
#include "base/fs.h"
#include "scratch.h"
#include "report/report_durations.h"
#include "state/retrysel.h"
#include "state/state_dir.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define JOB_DIR STATE_DIR_NAME "/job-1"

static char top[64];   /* the checkout */
static char *home_dir; /* where the test started */
static char job_dir[] = JOB_DIR;
static config_t cfg;

static int enter_checkout(void **state)
{
    (void)state;
    home_dir = scratch_enter(top, sizeof top, "test_state_dir");
    memset(&cfg, 0, sizeof cfg);
    cfg.state_dir = job_dir;
    return 0;
}

static int leave_checkout(void **state)
{
    (void)state;
    scratch_leave(top, home_dir);
    return 0;
}

/* The error is one line and says what it is about. */
static void assert_one_line_saying(const char *err, const char *said)
{
    assert_non_null(err);
    if (!strstr(err, said)) fail_msg("expected \"%s\" in: %s", said, err);
    assert_null(strchr(err, '\n'));
}

static void prepare_makes_a_private_marked_hidden_folder(void **state)
{
    (void)state;
    char *err = NULL;
    assert_true(state_dir_prepare(&cfg, &err));
    assert_null(err);
    assert_true(fs_is_dir(JOB_DIR "/results"));
    assert_true(fs_exists(JOB_DIR "/.test-engine-pytest-state"));
    char *ignore = fs_read_file(STATE_DIR_NAME "/.gitignore", NULL);
    assert_string_equal(ignore, "*\n");
    free(ignore);
    struct stat st;
    assert_int_equal(stat(JOB_DIR, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    /* Again on the same folder: still fine (the plan phase, then run). */
    assert_true(state_dir_prepare(&cfg, &err));
    char *path = state_dir_file(&cfg, "slice.json");
    assert_string_equal(path, JOB_DIR "/slice.json");
    free(path);
}

/* A chosen folder is the user's: no .gitignore is put in the checkout. */
static void chosen_folder_gets_no_gitignore(void **state)
{
    (void)state;
    char chosen[] = "elsewhere/state";
    config_t c = {.state_dir = chosen, .state_dir_chosen = true};
    char *err = NULL;
    assert_true(state_dir_prepare(&c, &err));
    assert_true(fs_exists("elsewhere/state/.test-engine-pytest-state"));
    assert_false(fs_exists(STATE_DIR_NAME));
}

static void prepare_refuses_a_group_writable_folder(void **state)
{
    (void)state;
    assert_true(fs_mkdirs(JOB_DIR));
    assert_int_equal(chmod(JOB_DIR, 0770), 0);
    char *err = NULL;
    assert_false(state_dir_prepare(&cfg, &err));
    assert_one_line_saying(err, "state directory '" JOB_DIR "' is writable by other users; "
                                "remove it, or set BUILDKITE_TEST_ENGINE_STATE_DIR");
    free(err);
    /* The shared top folder too: whoever writes it can swap the job's folder. */
    assert_int_equal(chmod(JOB_DIR, 0700), 0);
    assert_int_equal(chmod(STATE_DIR_NAME, 0777), 0);
    err = NULL;
    assert_false(state_dir_prepare(&cfg, &err));
    assert_one_line_saying(err, "state directory '" STATE_DIR_NAME "' is writable by other users");
    free(err);
}

static void prepare_refuses_a_link(void **state)
{
    (void)state;
    assert_true(fs_mkdirs("elsewhere"));
    assert_true(fs_mkdirs(STATE_DIR_NAME));
    assert_int_equal(symlink("../elsewhere", JOB_DIR), 0);
    char *err = NULL;
    assert_false(state_dir_prepare(&cfg, &err));
    assert_one_line_saying(err,
                           "state directory '" JOB_DIR "' is not a directory (a link or a file)");
    free(err);
    assert_false(fs_exists("elsewhere/.test-engine-pytest-state")); /* nothing written there */
}

/* Ours, or the checkout owner's (a container user after the agent's). */
static void prepare_refuses_a_folder_of_another_user(void **state)
{
    (void)state;
    if (geteuid() != 0) skip(); /* only root can give a folder away */
    assert_true(fs_mkdirs(JOB_DIR));
    assert_int_equal(chown(JOB_DIR, 4242, 4242), 0);
    char *err = NULL;
    assert_false(state_dir_prepare(&cfg, &err));
    assert_one_line_saying(err, "state directory '" JOB_DIR "' belongs to another user");
    free(err);
    /* The same owner as the checkout is trusted. */
    assert_int_equal(chown(".", 4242, 4242), 0);
    assert_int_equal(chown(STATE_DIR_NAME, 4242, 4242), 0);
    err = NULL;
    assert_true(state_dir_prepare(&cfg, &err));
    assert_null(err);
}

static void prepare_names_a_folder_it_cannot_make(void **state)
{
    (void)state;
    assert_true(fs_write_file("afile", "", 0));
    char chosen[] = "afile/state";
    config_t c = {.state_dir = chosen, .state_dir_chosen = true};
    char *err = NULL;
    assert_false(state_dir_prepare(&c, &err));
    assert_one_line_saying(
        err, "BUILDKITE_TEST_ENGINE_STATE_DIR 'afile/state': cannot create it (Not a directory)");
    free(err);
}

static void lock_is_taken_once(void **state)
{
    (void)state;
    char *err = NULL;
    assert_true(state_dir_prepare(&cfg, &err));
    assert_true(state_dir_lock(&cfg, &err));
    assert_null(err);
    /* flock belongs to the open file: a second open, even here, is refused. */
    assert_false(state_dir_lock(&cfg, &err));
    assert_one_line_saying(err, "another test-engine-pytest run is using " JOB_DIR
                                "; wait for it, or give this run its own "
                                "BUILDKITE_TEST_ENGINE_STATE_DIR");
    free(err);
    /* Another job's folder has its own lock. */
    char other[] = STATE_DIR_NAME "/job-2";
    config_t c = {.state_dir = other};
    err = NULL;
    assert_true(state_dir_prepare(&c, &err));
    assert_true(state_dir_lock(&c, &err));
}

static char *cwd_now(void)
{
    char *cwd = getcwd(NULL, 0);
    assert_non_null(cwd);
    return cwd;
}

static void locate_moves_to_the_nearest_parent_with_a_slice(void **state)
{
    (void)state;
    char *checkout = cwd_now();
    assert_true(fs_mkdirs(JOB_DIR));
    assert_true(fs_write_file(JOB_DIR "/slice.json", "{}", 2));
    /* A state folder without a slice on the way up does not count. */
    assert_true(fs_mkdirs("svc/" JOB_DIR));
    assert_true(fs_mkdirs("svc/api/deep"));
    assert_int_equal(chdir("svc/api/deep"), 0);
    char *moved = state_dir_locate(&cfg);
    assert_non_null(moved);
    assert_string_equal(moved, checkout);
    char *cwd = cwd_now();
    assert_string_equal(cwd, checkout);
    free(cwd);
    free(moved);
    /* Now one nearer has a slice: that one wins. */
    assert_true(fs_write_file("svc/" JOB_DIR "/slice.json", "{}", 2));
    assert_int_equal(chdir("svc/api/deep"), 0);
    moved = state_dir_locate(&cfg);
    char *want = xasprintf("%s/svc", checkout);
    assert_non_null(moved);
    assert_string_equal(moved, want);
    free(want);
    free(moved);
    /* Here the state dir is present: it stays. */
    moved = state_dir_locate(&cfg);
    assert_null(moved);
    assert_int_equal(chdir(checkout), 0);
    free(checkout);
}

static void locate_stays_without_a_slice_or_with_a_chosen_dir(void **state)
{
    (void)state;
    assert_true(fs_mkdirs("a/b"));
    assert_int_equal(chdir("a/b"), 0);
    char *before = cwd_now();
    assert_null(state_dir_locate(&cfg)); /* no parent has one */
    char *after = cwd_now();
    assert_string_equal(before, after);
    free(after);
    /* A chosen dir is where the user said, even when a parent has a slice. */
    assert_true(fs_mkdirs("../../" JOB_DIR));
    assert_true(fs_write_file("../../" JOB_DIR "/slice.json", "{}", 2));
    config_t c = {.state_dir = job_dir, .state_dir_chosen = true};
    assert_null(state_dir_locate(&c));
    after = cwd_now();
    assert_string_equal(before, after);
    free(after);
    free(before);
}

static void cleanup_removes_only_what_the_tool_made(void **state)
{
    (void)state;
    char *err = NULL, *note = NULL;
    char other[] = STATE_DIR_NAME "/job-2";
    config_t c2 = {.state_dir = other};
    assert_true(state_dir_prepare(&cfg, &err));
    assert_true(state_dir_prepare(&c2, &err));
    assert_true(fs_write_file(JOB_DIR "/results/attempt-0.json", "[]", 2));
    /* Another job's state is left, and so the shared top folder. */
    assert_true(state_dir_cleanup(&cfg, &note, &err));
    assert_null(note);
    assert_false(fs_exists(JOB_DIR));
    assert_true(fs_is_dir(STATE_DIR_NAME "/job-2"));
    /* The last one out takes the top folder and its .gitignore. */
    assert_true(state_dir_cleanup(&c2, &note, &err));
    assert_null(note);
    assert_false(fs_exists(STATE_DIR_NAME));
    /* Nothing there: nothing to do. */
    assert_true(state_dir_cleanup(&cfg, &note, &err));
    assert_null(note);
    assert_null(err);
    /* A chosen folder without the marker is the user's: left whole. */
    assert_true(fs_mkdirs("mine"));
    assert_true(fs_write_file("mine/precious", "x", 1));
    char mine[] = "mine";
    config_t c3 = {.state_dir = mine, .state_dir_chosen = true};
    assert_true(state_dir_cleanup(&c3, &note, &err));
    assert_null(note);
    assert_true(fs_exists("mine/precious"));
}

/* A folder is the state folder only where the tool may own it: never /, the
 * home folder, the checkout or a folder above it (`state-dir: .` once put
 * the marker into the checkout, and cleanup then deleted it, .git included). */
static void prepare_refuses_the_checkout_its_parents_home_and_root(void **state)
{
    (void)state;
    assert_true(fs_mkdirs("home"));
    char *old_home = getenv("HOME") ? xstrdup(getenv("HOME")) : NULL;
    char *home = xasprintf("%s/home", top);
    setenv("HOME", home, 1);
    struct {
        const char *dir, *said;
    } cases[] = {
        {".", "is the checkout or a folder above it"},
        {"..", "is the checkout or a folder above it"},
        {top, "is the checkout or a folder above it"},
        {home, "is the home folder"},
        {"/", "is the root folder"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *dir = xstrdup(cases[i].dir);
        config_t c = {.state_dir = dir, .state_dir_chosen = true};
        char *err = NULL;
        assert_false(state_dir_prepare(&c, &err));
        char *said = xasprintf("state directory '%s' %s; ", dir, cases[i].said);
        assert_one_line_saying(err, said);
        free(said);
        free(err);
        char *marker = fs_join(dir, ".test-engine-pytest-state");
        char *results = fs_join(dir, "results");
        assert_false(fs_exists(marker));
        assert_false(fs_exists(results));
        free(marker);
        free(results);
        /* Cleanup leaves them alone too, even with a marker and our names. */
        err = NULL;
        char *note = NULL;
        assert_true(state_dir_cleanup(&c, &note, &err));
        assert_null(note);
        free(dir);
    }
    assert_true(fs_write_file(".test-engine-pytest-state", "", 0));
    assert_true(fs_write_file("run.json", "mine", 4));
    char dot[] = ".";
    config_t c = {.state_dir = dot, .state_dir_chosen = true};
    char *err = NULL, *note = NULL;
    assert_true(state_dir_cleanup(&c, &note, &err));
    assert_true(fs_exists("run.json"));
    if (old_home)
        setenv("HOME", old_home, 1);
    else
        unsetenv("HOME");
    free(old_home);
    free(home);
}

/* A folder that holds a user's files is not taken: prepare refuses it and
 * leaves it as it was; an empty one is taken (the marker is made). */
static void prepare_takes_an_empty_folder_and_refuses_a_full_one(void **state)
{
    (void)state;
    assert_true(fs_mkdirs("mine/sub"));
    assert_true(fs_write_file("mine/notes.txt", "mine", 4));
    char mine[] = "mine";
    config_t c = {.state_dir = mine, .state_dir_chosen = true};
    char *err = NULL;
    assert_false(state_dir_prepare(&c, &err));
    assert_one_line_saying(err, "state directory 'mine' already holds files this tool did not "
                                "write; give BUILDKITE_TEST_ENGINE_STATE_DIR (state-dir) a new or "
                                "empty folder, or leave it unset");
    free(err);
    assert_false(fs_exists("mine/.test-engine-pytest-state"));
    assert_false(fs_exists("mine/results"));
    assert_true(fs_mkdirs("empty"));
    char empty[] = "empty";
    config_t e = {.state_dir = empty, .state_dir_chosen = true};
    err = NULL;
    assert_true(state_dir_prepare(&e, &err));
    assert_true(fs_exists("empty/.test-engine-pytest-state"));
    assert_true(state_dir_prepare(&e, &err)); /* ours now: the run phase after the plan */
}

/* Cleanup removes the tool's files by name; a user's notes.txt and sub/
 * stay, and so does the folder, said in one line. */
static void cleanup_removes_own_files_by_name_and_keeps_the_rest(void **state)
{
    (void)state;
    char chosen[] = "state";
    config_t c = {.state_dir = chosen, .state_dir_chosen = true};
    char *err = NULL, *note = NULL;
    assert_true(state_dir_prepare(&c, &err));
    assert_true(state_dir_lock(&c, &err));
    const char *ours[] = {"state/slice.json",
                          "state/options.json",
                          "state/run.json",
                          "state/results/attempt-0.json",
                          "state/results/attempt-1.part-2.xml",
                          "state/results/attempt-0.json.lock",
                          "state/.run.json.tep-Ab12Cd",
                          "state/test-engine-pytest-durations-job-1.json",
                          "state/retry-selectors-job-1-0-attempt0.txt"};
    for (size_t i = 0; i < sizeof ours / sizeof *ours; i++)
        assert_true(fs_write_file(ours[i], "x", 1));
    assert_true(fs_mkdirs("state/sub"));
    assert_true(fs_write_file("state/sub/deep.txt", "mine", 4));
    assert_true(fs_write_file("state/notes.txt", "mine", 4));
    assert_true(state_dir_cleanup(&c, &note, &err));
    assert_null(err);
    for (size_t i = 0; i < sizeof ours / sizeof *ours; i++) assert_false(fs_exists(ours[i]));
    assert_false(fs_exists("state/lock"));
    assert_false(fs_exists("state/results"));
    assert_true(fs_exists("state/notes.txt"));
    assert_true(fs_exists("state/sub/deep.txt"));
    assert_one_line_saying(note, "kept state: it holds what this tool did not write (");
    assert_non_null(strstr(note, "notes.txt"));
    assert_non_null(strstr(note, "sub/"));
    free(note);
    /* Once the user's files are gone, the next cleanup takes the folder. */
    assert_int_equal(system("rm -r state/notes.txt state/sub"), 0);
    note = NULL;
    assert_true(state_dir_cleanup(&c, &note, &err));
    assert_null(note);
    assert_false(fs_exists("state"));
}

/* The names cleanup removes are the ones the writers use. */
static void own_names_match_the_writers(void **state)
{
    (void)state;
    assert_true(state_dir_is_result_name("attempt-0.json"));
    assert_true(state_dir_is_result_name("attempt-12.part-3.xml"));
    assert_false(state_dir_is_result_name("attempt-.json"));
    assert_false(state_dir_is_result_name("attempt-0.json.bak"));
    assert_false(state_dir_is_result_name("notes.txt"));
    assert_true(state_dir_is_result_name("attempt-0.xml.index"));         /* results_index.h */
    assert_true(state_dir_is_result_name("attempt-3.part-2.json.index")); /* never written, ours */
    assert_true(state_dir_is_result_name(".attempt-0.json.index.tep-a1B2c3")); /* a killed write */
    assert_true(state_dir_is_result_name(".attempt-1.xml.tep-a1B2c3"));
    assert_false(state_dir_is_result_name(".notes.txt.tep-a1B2c3"));
    assert_false(state_dir_is_result_name("attempt-0.xml.index.bak"));
    assert_true(state_dir_is_own_name("run.json"));
    assert_true(state_dir_is_own_name(".slice.json.tep-x1Y2z3"));
    assert_false(state_dir_is_own_name("notes.txt"));
    assert_false(state_dir_is_own_name("results"));
    assert_false(state_dir_is_own_name(".test-engine-pytest-state")); /* last, on its own */
    char id[] = "job-1";
    config_t c = {.job_id = id};
    char *name = report_durations_name(&c);
    assert_true(state_dir_is_own_name(name));
    free(name);
    assert_true(retrysel_artifact_name_ok("retry-selectors-job-1-0-attempt0.txt"));
    assert_true(state_dir_is_own_name("retry-selectors-job-1-0-attempt0.txt"));
}

/* A job id that is no plain name leaves no state dir: nothing is made, read
 * or removed with it. */
static void no_state_dir_with_a_job_id_problem(void **state)
{
    (void)state;
    char problem[] = "BUILDKITE_JOB_ID: '../../outside' is not a job id";
    char dir[] = STATE_DIR_NAME "/(no valid job id)";
    config_t c = {.state_dir = dir, .state_dir_problem = problem};
    char *err = NULL, *note = NULL;
    assert_false(state_dir_prepare(&c, &err));
    assert_string_equal(err, problem);
    free(err);
    err = NULL;
    assert_false(state_dir_cleanup(&c, &note, &err));
    assert_string_equal(err, problem);
    free(err);
    err = NULL;
    cJSON *out = NULL;
    assert_false(state_dir_read_json(&c, "options.json", 1, &out, &err));
    free(err);
    assert_false(fs_exists(STATE_DIR_NAME));
}

/* The default place's top folder is a link: nothing is made in its target
 * (fs_mkdirs used to make job-1/results there before the check refused it). */
static void prepare_makes_nothing_through_a_linked_top_folder(void **state)
{
    (void)state;
    assert_true(fs_mkdirs("elsewhere"));
    assert_int_equal(symlink("elsewhere", STATE_DIR_NAME), 0);
    char *err = NULL;
    assert_false(state_dir_prepare(&cfg, &err));
    assert_one_line_saying(err, "is not a directory (a link or a file)");
    free(err);
    assert_false(fs_exists("elsewhere/job-1"));
    /* A chosen folder that is a link: nothing made inside its target either. */
    assert_int_equal(symlink("elsewhere", "linked"), 0);
    char linked[] = "linked";
    config_t c = {.state_dir = linked, .state_dir_chosen = true};
    err = NULL;
    assert_false(state_dir_prepare(&c, &err));
    free(err);
    char *abs_link = xasprintf("%s/linked", top);
    c.state_dir = abs_link;
    err = NULL;
    assert_false(state_dir_prepare(&c, &err));
    assert_one_line_saying(err, "is not a directory (a link or a file)");
    free(err);
    free(abs_link);
    assert_false(fs_exists("elsewhere/results"));
    assert_false(fs_exists("elsewhere/.test-engine-pytest-state"));
}

/* The lock is never opened through a link (it was created at the target). */
static void lock_never_follows_a_link(void **state)
{
    (void)state;
    char *err = NULL;
    assert_true(state_dir_prepare(&cfg, &err));
    assert_int_equal(symlink("../../victim", JOB_DIR "/lock"), 0);
    assert_false(state_dir_lock(&cfg, &err));
    free(err);
    assert_false(fs_exists("victim"));
}

/* A full disk is said as such and has its own status; prepare keeps room
 * for run.json, given back once, and cleanup takes the reservation too. */
static void full_disk_status_and_room_kept_for_run_json(void **state)
{
    (void)state;
    config_t c = cfg;
    c.config_exit_status = 78;
    assert_int_equal(state_dir_exit_status(&c, ENOSPC), STATE_DIR_EXIT_DISK_FULL);
    assert_int_equal(state_dir_exit_status(&c, EDQUOT), 74);
    assert_int_equal(state_dir_exit_status(&c, EACCES), 78);
    char *err = NULL;
    state_dir_write_error("x/run.json", ENOSPC, &err);
    assert_string_equal(err, "disk full: cannot write x/run.json (No space left on device); free "
                             "space on that file system");
    free(err);
    err = NULL;
    assert_true(state_dir_prepare(&cfg, &err));
    struct stat st;
    assert_int_equal(stat(JOB_DIR "/.run.json.reserve", &st), 0);
    assert_true(st.st_size >= STATE_DIR_RESERVE_BYTES);
    assert_false(state_dir_is_full(&cfg));
    assert_true(state_dir_release_reserve(&cfg));
    assert_false(state_dir_release_reserve(&cfg));
    state_dir_reserve(&cfg);
    char *note = NULL;
    assert_true(state_dir_cleanup(&cfg, &note, &err));
    assert_null(note);
    assert_false(fs_exists(JOB_DIR));
}

static void write_state_file(const char *name, const char *text)
{
    char *path = state_dir_file(&cfg, name);
    assert_true(fs_write_file(path, text, strlen(text)));
    free(path);
}

static void json_round_trip_and_absence(void **state)
{
    (void)state;
    char *err = NULL;
    assert_true(state_dir_prepare(&cfg, &err));
    cJSON *out = (cJSON *)1;
    assert_true(state_dir_read_json(&cfg, "x.json", 7, &out, &err));
    assert_null(out); /* absent: nothing, and no error */
    assert_null(err);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddNumberToObject(root, "version", 7);
    cJSON_AddStringToObject(root, "k", "v");
    assert_true(state_dir_write_json(&cfg, "x.json", root, &err));
    cJSON_Delete(root);
    assert_true(state_dir_read_json(&cfg, "x.json", 7, &out, &err));
    assert_non_null(out);
    assert_string_equal(cJSON_GetObjectItem(out, "k")->valuestring, "v");
    cJSON_Delete(out);
}

static void json_reader_refuses_what_it_cannot_use(void **state)
{
    (void)state;
    char *err = NULL;
    assert_true(state_dir_prepare(&cfg, &err));
    struct {
        const char *text, *said;
    } cases[] = {
        {"{\"version\": 3}", " was written by another version of test-engine-pytest; run the "
                             "plan phase again"},
        {"{\"version\": \"7\"}", "was written by another version"},
        {"{\"version\": 7.5}", "was written by another version"},
        {"{}", "was written by another version"},
        {"[{\"version\": 7}]", " is not valid JSON; run the earlier phase again"},
        {"{\"version\": 7", " is not valid JSON"},
        {"", " is not valid JSON"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_state_file("x.json", cases[i].text);
        cJSON *out = (cJSON *)1;
        err = NULL;
        assert_false(state_dir_read_json(&cfg, "x.json", 7, &out, &err));
        assert_null(out);
        assert_one_line_saying(err, cases[i].said);
        assert_non_null(strstr(err, JOB_DIR "/x.json"));
        free(err);
    }
    /* There but unreadable is not "absent". */
    assert_true(fs_mkdirs(JOB_DIR "/d.json"));
    cJSON *out = NULL;
    err = NULL;
    assert_false(state_dir_read_json(&cfg, "d.json", 7, &out, &err));
    assert_one_line_saying(err, "cannot read " JOB_DIR "/d.json (Is a directory); run the "
                                "earlier phase again");
    free(err);
}

static void json_writer_names_the_file_it_cannot_write(void **state)
{
    (void)state;
    cJSON *root = cJSON_CreateObject();
    char *err = NULL;
    assert_false(state_dir_write_json(&cfg, "x.json", root, &err)); /* not prepared */
    assert_one_line_saying(err, "cannot write " JOB_DIR "/x.json (No such file or directory)");
    free(err);
    cJSON_Delete(root);
}

#define IN_CHECKOUT(t) cmocka_unit_test_setup_teardown(t, enter_checkout, leave_checkout)

int main(void)
{
    const struct CMUnitTest tests[] = {
        IN_CHECKOUT(prepare_makes_a_private_marked_hidden_folder),
        IN_CHECKOUT(chosen_folder_gets_no_gitignore),
        IN_CHECKOUT(prepare_refuses_a_group_writable_folder),
        IN_CHECKOUT(prepare_refuses_a_link),
        IN_CHECKOUT(prepare_refuses_a_folder_of_another_user),
        IN_CHECKOUT(prepare_names_a_folder_it_cannot_make),
        IN_CHECKOUT(lock_is_taken_once),
        IN_CHECKOUT(locate_moves_to_the_nearest_parent_with_a_slice),
        IN_CHECKOUT(locate_stays_without_a_slice_or_with_a_chosen_dir),
        IN_CHECKOUT(cleanup_removes_only_what_the_tool_made),
        IN_CHECKOUT(prepare_refuses_the_checkout_its_parents_home_and_root),
        IN_CHECKOUT(prepare_takes_an_empty_folder_and_refuses_a_full_one),
        IN_CHECKOUT(cleanup_removes_own_files_by_name_and_keeps_the_rest),
        IN_CHECKOUT(own_names_match_the_writers),
        IN_CHECKOUT(no_state_dir_with_a_job_id_problem),
        IN_CHECKOUT(prepare_makes_nothing_through_a_linked_top_folder),
        IN_CHECKOUT(lock_never_follows_a_link),
        IN_CHECKOUT(full_disk_status_and_room_kept_for_run_json),
        IN_CHECKOUT(json_round_trip_and_absence),
        IN_CHECKOUT(json_reader_refuses_what_it_cannot_use),
        IN_CHECKOUT(json_writer_names_the_file_it_cannot_write),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

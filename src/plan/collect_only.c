#include "plan/collect_only.h"
#include "base/timeouts.h"
#include "base/buf.h"
#include "pytest/childenv.h"
#include "base/err.h"
#include "base/fs.h"
#include "base/process.h"
#include "pytest/pyplugin.h"
#include "base/jsontext.h"
#include "results/results_json.h"
#include "pytest/nodeid.h"
#include "base/strset.h"
#include "config/template.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXAMPLES      "{{testExamples}}"
#define RESULT        "{{resultPath}}"
#define PLUGIN_MODULE "tep_collect_ids"
#define OUT_VAR       "TEP_COLLECT_OUT"

/* Appends as it goes, so a crash halfway still leaves what was seen; the
 * "done" record says pytest got through collection. */
static const char PLUGIN_PY[] =
    "\"\"\"Written by test-engine-pytest for one --collect-only run: records what pytest "
    "collected.\"\"\"\n"
    "import json\n"
    "import os\n"
    "\n"
    "def _write(records):\n"
    "    with open(os.environ['" OUT_VAR "'], 'a', encoding='ascii') as out:\n"
    "        for record in records:\n"
    "            out.write(json.dumps(record) + '\\n')\n"
    "\n"
    "def pytest_sessionstart(session):\n"
    "    config = session.config\n"
    "    rootdir = getattr(config, 'rootpath', None) or config.rootdir\n"
    "    _write([{'rootdir': str(rootdir), 'invocation_dir': str(config.invocation_params.dir)}])\n"
    "\n"
    "def pytest_collectreport(report):\n"
    "    if report.failed:\n"
    "        _write([{'error': report.nodeid or '.'}])\n"
    "\n"
    "def pytest_collection_finish(session):\n"
    "    _write([{'id': item.nodeid} for item in session.items] + [{'done': "
    "len(session.items)}])\n";

/* Unlike template_launcher (the words a person would retype, cut at the first
 * positional path), pytest here needs every option the command gives it,
 * values included; only the result option goes, since --collect-only writes
 * no results. */
static void keep_launcher_word(const char *w, strlist_t *argv)
{
    if (!strstr(w, RESULT)) {
        strlist_push(argv, w);
    } else if (strcmp(w, RESULT) == 0 && argv->len > 1 && argv->items[argv->len - 1][0] == '-') {
        /* "--junitxml {{resultPath}}": the option goes with its value */
        free(argv->items[--argv->len]);
        argv->items[argv->len] = NULL;
    }
}

bool collect_only_launcher(const char *tmpl, strlist_t *argv, char **err)
{
    strlist_t words;
    strlist_init(&words);
    bool ok = template_split(tmpl, &words, err);
    for (size_t i = 0; ok && i < words.len && !strstr(words.items[i], EXAMPLES); i++)
        keep_launcher_word(words.items[i], argv);
    strlist_free(&words);
    return ok;
}

/* The requested file a node id belongs to ("tests/a.py::t[x]" -> "tests/a.py"), or NULL. */
static const char *owning_file(const strlist_t *sorted, const char *id)
{
    const char *sep = strstr(id, "::");
    char *file = sep ? xstrndup(id, (size_t)(sep - id)) : xstrdup(id);
    char **hit = sorted->len
                     ? bsearch(&file, sorted->items, sorted->len, sizeof(char *), strlist_cmp)
                     : NULL;
    free(file);
    return hit ? *hit : NULL;
}

/* What reading the plugin's lines carries from line to line. seen: requested
 * files with at least one id; broken: res->broken_files as a set (hashed:
 * 10,000 slow files with 100,000 ids made list scans quadratic). */
typedef struct {
    const strlist_t *sorted;
    strset_t seen, broken;
    char *prefix; /* pytest's rootdir seen from here (nodeid.h) */
    collect_only_result_t *res;
} reading_t;

/* The string member key of a JSON line, decoded byte for byte; NULL when
 * absent or not a string. Caller frees. */
static char *member_text(const char *line, const char *key)
{
    const char *v;
    size_t vlen;
    buf_t b = BUF_INIT;
    if (!results_json_member(line, strlen(line), key, &v, &vlen) ||
        jsontext_decode(v, vlen, &b) != JSONTEXT_OK) {
        buf_free(&b);
        return NULL;
    }
    return buf_detach(&b);
}

/* The rootdir line: node ids after it are made to run from where pytest ran. */
static void read_rootdir(reading_t *rd, const char *rootdir)
{
    char *cwd = getcwd(NULL, 0);
    char *why = NULL;
    char *prefix = cwd ? nodeid_prefix(rootdir, cwd, &why) : NULL;
    free(why); /* ids then stay as pytest printed them: foreign to the files asked for */
    free(rd->prefix);
    rd->prefix = prefix ? prefix : xstrdup("");
    free(cwd);
}

static void read_id(reading_t *rd, const char *raw)
{
    collect_only_result_t *res = rd->res;
    char *id = nodeid_join(rd->prefix, raw);
    const char *file = owning_file(rd->sorted, id);
    if (file) {
        strlist_push_owned(&res->node_ids, id);
        strset_add(&rd->seen, file);
        return;
    }
    if (res->foreign_ids++ == 0) res->foreign_example = xstrdup(id);
    free(id);
}

static bool read_plugin_record(reading_t *rd, const char *line)
{
    char *rootdir = member_text(line, "rootdir");
    char *id = member_text(line, "id");
    char *error = member_text(line, "error");
    const char *v;
    size_t vlen;
    bool done = results_json_member(line, strlen(line), "done", &v, &vlen);
    if (rootdir) read_rootdir(rd, rootdir);
    if (id) read_id(rd, id);
    if (error) {
        char *at = nodeid_join(rd->prefix, error);
        if (!strset_has(&rd->broken, at)) {
            strlist_push_owned(&rd->res->broken_files, at);
            strset_add(&rd->broken, rd->res->broken_files.items[rd->res->broken_files.len - 1]);
        } else {
            free(at);
        }
    }
    free(rootdir);
    free(id);
    free(error);
    return done;
}

bool collect_only_read_records(const char *text, const strlist_t *files, collect_only_result_t *res)
{
    strlist_t sorted = STRLIST_INIT, lines = STRLIST_INIT;
    strset_t whole = STRSET_INIT;
    reading_t rd = {.sorted = &sorted, .prefix = xstrdup(""), .res = res};
    strset_add_list(&rd.broken, &res->broken_files);
    strset_add_list(&whole, &res->whole_files);
    for (size_t i = 0; i < files->len; i++) strlist_push(&sorted, files->items[i]);
    strlist_sort(&sorted);
    strlist_push_lines(&lines, text);
    bool done = false;
    for (size_t i = 0; i < lines.len; i++) done |= read_plugin_record(&rd, lines.items[i]);
    for (size_t i = 0; i < files->len; i++)
        if (!strset_has(&rd.seen, files->items[i]) && strset_add(&whole, files->items[i]))
            strlist_push(&res->whole_files, files->items[i]);
    strset_free(&whole);
    strset_free(&rd.broken);
    strset_free(&rd.seen);
    free(rd.prefix);
    strlist_free(&lines);
    strlist_free(&sorted);
    return done;
}

/* The private directory: the plugin module and the file it writes. */
static bool make_workdir(char **dir, char **err)
{
    char *why = NULL;
    if (pyplugin_dir_make("tep-collect", PLUGIN_MODULE, PLUGIN_PY, dir, &why)) return true;
    err_set(err, "the collection plugin: %s", why);
    free(why);
    return false;
}

static void plugin_env(strlist_t *env, const char *dir, const char *out)
{
    childenv_build(env);
    pyplugin_env_add(env, dir);
    childenv_set(env, OUT_VAR, out);
}

/* The last non-empty line pytest printed, for a one-line error. */
static char *last_line(const char *text)
{
    strlist_t lines;
    strlist_init(&lines);
    strlist_push_lines(&lines, text);
    char *l = xstrdup(lines.len ? lines.items[lines.len - 1] : "(no output)");
    strlist_free(&lines);
    if (strlen(l) > 300) l[300] = '\0';
    return l;
}

static char *why_unreported(const process_result_t *r, const char *output)
{
    if (r->start_failed) return xstrdup(r->error);
    if (r->timed_out)
        return xasprintf("pytest --collect-only ran longer than %d s and was stopped",
                         TIMEOUT_COLLECT_S);
    if (r->signal) return xasprintf("pytest --collect-only was killed by signal %d", r->signal);
    if (strstr(output, PLUGIN_MODULE)) /* e.g. a wrapper that resets the environment */
        return xasprintf(
            "pytest --collect-only exited %d: it could not load our collection plugin, so the test "
            "command's launcher does not pass PYTHONPATH on to pytest",
            r->exit_code);
    /* A usage error ("...: error: unrecognized arguments: ...") is followed by
     * rootdir lines: its own line says more than the last one. */
    const char *usage = strstr(output, ": error: ");
    char *line = usage ? xstrndup(usage + 2, strcspn(usage + 2, "\n")) : last_line(output);
    char *why = xasprintf("pytest --collect-only exited %d without reporting what it collected: %s",
                          r->exit_code, line);
    free(line);
    return why;
}

/* The launcher, our plugin and --collect-only, the extra options, the files. */
static void collection_argv(const strlist_t *launcher, const strlist_t *options,
                            const strlist_t *files, strlist_t *argv)
{
    for (size_t i = 0; i < launcher->len; i++) strlist_push(argv, launcher->items[i]);
    const char *ours[] = {"-p", PLUGIN_MODULE, "--collect-only", "-q"};
    for (size_t i = 0; i < sizeof ours / sizeof ours[0]; i++) strlist_push(argv, ours[i]);
    for (size_t i = 0; options && i < options->len; i++) strlist_push(argv, options->items[i]);
    for (size_t i = 0; i < files->len; i++) strlist_push(argv, files->items[i]);
}

static void run_collection(const char *dir, const strlist_t *launcher, const strlist_t *options,
                           const strlist_t *files, collect_only_result_t *res)
{
    char *out_path = fs_join(dir, "collected.jsonl");
    strlist_t argv, env;
    strlist_init(&argv);
    strlist_init(&env);
    collection_argv(launcher, options, files, &argv);
    plugin_env(&env, dir, out_path);
    buf_t output;
    buf_init(&output);
    process_opts_t o = {
        .argv = argv.items, .env = &env, .capture = &output, .timeout_s = TIMEOUT_COLLECT_S};
    process_result_t r;
    process_run(&o, &r);
    res->exit_code = r.start_failed ? 127 : r.signal ? 128 + r.signal : r.exit_code;
    char *records = fs_read_file(out_path, NULL);
    bool done = collect_only_read_records(records ? records : "", files, res);
    /* argparse's own words: "error: unrecognized arguments: --tag-filters ..." */
    const char *unrec = done ? NULL : strstr(output.data, "unrecognized arguments:");
    if (unrec) res->unrecognized = xstrndup(unrec, strcspn(unrec, "\n"));
    if (!done) res->error = why_unreported(&r, output.data);
    process_result_free(&r);
    free(records);
    buf_free(&output);
    strlist_free(&env);
    strlist_free(&argv);
    free(out_path);
}

static void mark_all_whole(const strlist_t *files, collect_only_result_t *res)
{
    for (size_t i = 0; i < files->len; i++) strlist_push(&res->whole_files, files->items[i]);
}

void collect_only_examples(const char *test_cmd, const strlist_t *files, collect_only_result_t *res)
{
    collect_only_examples_with(test_cmd, NULL, files, res);
}

void collect_only_examples_with(const char *test_cmd, const strlist_t *options,
                                const strlist_t *files, collect_only_result_t *res)
{
    memset(res, 0, sizeof *res);
    strlist_init(&res->node_ids);
    strlist_init(&res->whole_files);
    strlist_init(&res->broken_files);
    strlist_t launcher;
    strlist_init(&launcher);
    char *err = NULL, *dir = NULL;
    if (!collect_only_launcher(test_cmd, &launcher, &err)) {
        res->error = xasprintf("test command: %s", err);
    } else if (!make_workdir(&dir, &err)) {
        res->error = err;
        err = NULL;
    } else {
        run_collection(dir, &launcher, options, files, res);
        pyplugin_dir_remove(dir);
    }
    if (res->error) {
        /* A half-written record file is not a collection: run everything whole. */
        strlist_clear(&res->node_ids);
        strlist_clear(&res->whole_files);
        mark_all_whole(files, res);
    }
    free(err);
    free(dir);
    strlist_free(&launcher);
}

void collect_only_result_free(collect_only_result_t *res)
{
    strlist_free(&res->node_ids);
    strlist_free(&res->whole_files);
    strlist_free(&res->broken_files);
    free(res->foreign_example);
    free(res->unrecognized);
    free(res->error);
}

#include "pytest/result_mode.h"
#include "base/timeouts.h"
#include "base/buf.h"
#include "pytest/childenv.h"
#include "config/cmdcheck.h"
#include "base/err.h"
#include "pytest/interp.h"
#include "pytest/interp_cache.h"
#include "base/process.h"
#include "config/template.h"
#include "base/text.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COLLECTOR "buildkite_test_collector"

/* One interpreter start answers every question. The entry-point scan (the
 * slow part) runs only when the mode is still open. pkg_resources covers
 * Pythons older than 3.8; a Python that has neither cannot say, so "no".
 * The answer is kept (interp_cache.h) with the stamps of what it depends on,
 * printed first. */
static const char PROBE_PY[] =
    "import os, sys\n" INTERP_CACHE_PROBE_PY "from importlib.util import find_spec\n"
    "def has(m):\n"
    "    try:\n"
    "        return find_spec(m) is not None\n"
    "    except Exception:\n"
    "        return False\n"
    "def registered():\n"
    "    try:\n"
    "        try:\n"
    "            from importlib.metadata import entry_points\n"
    "            eps = entry_points()\n"
    "            eps = eps.select(group='pytest11') if hasattr(eps, 'select') else "
    "eps.get('pytest11', ())\n"
    "            mods = [e.value for e in eps]\n"
    "        except ImportError:\n"
    "            import pkg_resources\n"
    "            mods = [e.module_name for e in pkg_resources.iter_entry_points('pytest11')]\n"
    "        return any(m.split(':')[0].split('.')[0] == '" COLLECTOR "' for m in mods)\n"
    "    except Exception:\n"
    "        return False\n"
    "full = 'collector' in sys.argv[1:]\n"
    "print('tep-probe pytest=%d collector=%d registered=%d' % (has('pytest'), full and "
    "has('" COLLECTOR "'), full and registered()))\n";

typedef result_mode_probe_t collector_probe_t;

const char *result_mode_ext(result_mode_t m)
{
    return m == MODE_JSON ? "json" : "xml";
}

void result_mode_probe_read(const buf_t *out, collector_probe_t *p)
{
    const char *line = strstr(out->data, "tep-probe ");
    p->answered = line && sscanf(line, "tep-probe pytest=%d collector=%d registered=%d", &p->pytest,
                                 &p->collector, &p->registered) == 3;
    if (!p->answered) {
        const char *last = out->data;
        for (const char *s = out->data; *s; s++)
            if (*s == '\n' && s[1]) last = s + 1;
        char *said = text_excerpt(last, strcspn(last, "\n"), 300); /* short, printable */
        p->detail = xasprintf("it answered: %s", said);
        free(said);
    }
}

/* The answer an earlier probe gave in the same interpreter and environment
 * (this job's plan, or an earlier job), when nothing it depends on changed
 * since; false to run the probe. */
static bool probe_cached(interp_cache_t *cache, const char *job_dir, const strlist_t *python,
                         bool full, const strlist_t *env, collector_probe_t *p)
{
    char *text = NULL;
    char *probe = xasprintf("%s%s", PROBE_PY, full ? " collector" : "");
    bool hit = interp_cache_lookup(cache, job_dir, python, probe, env, &text);
    free(probe);
    if (hit) {
        buf_t out = {.data = text, .len = strlen(text), .cap = strlen(text) + 1};
        result_mode_probe_read(&out, p);
        if (!p->answered) { /* cannot happen with an entry lookup accepted; ask again */
            free(p->detail);
            memset(p, 0, sizeof *p);
        }
        hit = p->answered;
    }
    free(text);
    return hit;
}

/* Asks python (or finds its answer kept, see interp_cache.h). ahead: only
 * to keep the answer for later (the plan phase): nothing runs when it could
 * not be kept, or when the interpreter does not resolve here. */
static void probe_run(const char *job_dir, const strlist_t *python, bool full, bool ahead,
                      collector_probe_t *p)
{
    memset(p, 0, sizeof *p);
    strlist_t argv, env;
    strlist_init(&argv);
    strlist_init(&env);
    childenv_build(&env);
    interp_cache_t cache;
    if (probe_cached(&cache, job_dir, python, full, &env, p) ||
        (ahead && !interp_cache_can_store(&cache))) {
        interp_cache_free(&cache);
        strlist_free(&env);
        strlist_free(&argv);
        return;
    }
    for (size_t i = 0; i < python->len; i++) strlist_push(&argv, python->items[i]);
    strlist_push(&argv, "-c");
    strlist_push(&argv, PROBE_PY);
    if (full) strlist_push(&argv, "collector");
    buf_t out;
    buf_init(&out);
    process_opts_t o = {
        .argv = argv.items, .env = &env, .capture = &out, .timeout_s = TIMEOUT_PROBE_S};
    process_result_t r;
    process_run(&o, &r);
    if (r.start_failed)
        p->detail = xstrdup(r.error);
    else if (r.timed_out)
        p->detail = xasprintf("it did not answer within %d s", TIMEOUT_PROBE_S);
    else if (r.signal)
        p->detail = xasprintf("it was killed by signal %d", r.signal);
    else
        result_mode_probe_read(&out, p);
    if (p->answered && r.exit_code == 0) interp_cache_store(&cache, buf_str(&out));
    interp_cache_free(&cache);
    process_result_free(&r);
    buf_free(&out);
    strlist_free(&env);
    strlist_free(&argv);
}

static char *join_words(const strlist_t *words)
{
    buf_t b;
    buf_init(&b);
    for (size_t i = 0; i < words->len; i++) buf_printf(&b, "%s%s", i ? " " : "", words->items[i]);
    return buf_detach(&b);
}

/* The command loads the collector itself: -p buildkite_test_collector... */
static bool names_collector_plugin(const strlist_t *w)
{
    bool hit = false;
    for (size_t i = 0; i < w->len && !hit; i++)
        hit = (strcmp(w->items[i], "-p") == 0 && i + 1 < w->len &&
               strncmp(w->items[i + 1], COLLECTOR, strlen(COLLECTOR)) == 0) ||
              strncmp(w->items[i], "-p" COLLECTOR, strlen("-p" COLLECTOR)) == 0;
    const char *env_plugins = getenv("PYTEST_PLUGINS");
    return hit || (env_plugins && strstr(env_plugins, COLLECTOR));
}

static bool autoload_disabled(void)
{
    const char *v = getenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD");
    return v && *v;
}

/* The mode when the command names no result option. */
static result_mode_t mode_from_probe(const strlist_t *words, const char *py,
                                     const collector_probe_t *p, char **why)
{
    bool loaded_explicitly = names_collector_plugin(words);
    if (p->collector && ((p->registered && !autoload_disabled()) || loaded_explicitly)) {
        *why = xasprintf("buildkite-test-collector is %s for %s",
                         loaded_explicitly ? "loaded with -p" : "a registered pytest plugin", py);
        return MODE_JSON;
    }
    if (p->collector && p->registered)
        *why = xasprintf("buildkite-test-collector is registered for %s, but "
                         "PYTEST_DISABLE_PLUGIN_AUTOLOAD keeps pytest from "
                         "loading it; add -p buildkite_test_collector.pytest_plugin to the test "
                         "command to use it",
                         py);
    else if (p->collector)
        *why = xasprintf("buildkite-test-collector is importable by %s but not registered as a "
                         "pytest plugin (no pytest11 "
                         "entry point), so pytest would not know --json; install it with that "
                         "Python's pip, or add "
                         "-p buildkite_test_collector.pytest_plugin to the test command",
                         py);
    else
        *why = xasprintf("buildkite-test-collector is not importable by %s", py);
    return MODE_JUNIT;
}

static char *with_result_option(const char *tmpl, result_mode_t mode)
{
    if (strstr(tmpl, "{{resultPath}}")) return xstrdup(tmpl);
    return xasprintf("%s %s", tmpl,
                     mode == MODE_JSON ? "--json={{resultPath}}" : "--junit-xml={{resultPath}}");
}

/* Both commands are checked before anything runs: a bad retry command must
 * be a configuration error now, not a surprise at the first retry. The test
 * command's words come back for every later question: it is split once. */
static bool check_commands(const config_t *cfg, strlist_t *words, char **err)
{
    strlist_t problems;
    strlist_init(&problems);
    cmdcheck_commands_words(cfg, words, &problems);
    bool ok = problems.len == 0;
    if (!ok) {
        buf_t b;
        buf_init(&b);
        for (size_t i = 0; i < problems.len; i++)
            buf_printf(&b, "%s%s", i ? "; " : "", problems.items[i]);
        err_set(err, "%s", b.data);
        buf_free(&b);
    }
    strlist_free(&problems);
    return ok;
}

/* The interpreter to ask: the command's own, else the python option. */
static void choose_python(const config_t *cfg, const strlist_t *words, interp_t *it)
{
    interp_of_words(words, it);
    if (it->argv.len || !*cfg->python) return;
    strlist_push(&it->argv, cfg->python);
    it->runs_pytest = false; /* the user's word, not the command's: do not fail on it */
}

/* The mode when neither the command's options nor the probe decide it. */
static char *unknown_why(const interp_t *it, const char *py, const collector_probe_t *p)
{
    if (it->argv.len)
        return xasprintf("could not ask %s about buildkite-test-collector: %s", py, p->detail);
    return xasprintf("cannot tell which Python runs the test command (%s); set "
                     "BUILDKITE_TEST_ENGINE_PYTHON to look for buildkite-test-collector there",
                     it->why_unknown);
}

/* Whether the command names its result option: --json, or --junit-xml /
 * --junitxml ('=' or space form). Either one: the probe asks about pytest
 * alone, not about the collector. */
static void result_options(const strlist_t *words, bool *json, bool *junit)
{
    *json = template_words_have_option(words, "--json");
    *junit = template_words_have_option(words, "--junit-xml") ||
             template_words_have_option(words, "--junitxml");
}

/* Sets s->mode and s->why from the command's words and, when they do not
 * name a result option, from what the command's Python says. */
static bool choose_mode(const config_t *cfg, const strlist_t *words, run_setup_t *s, char **err)
{
    bool json_opt, junit_opt;
    result_options(words, &json_opt, &junit_opt);
    interp_t it;
    choose_python(cfg, words, &it);
    char *py = join_words(&it.argv);
    collector_probe_t p = {0};
    if (it.argv.len) probe_run(cfg->state_dir, &it.argv, !json_opt && !junit_opt, false, &p);
    bool ok = !(p.answered && !p.pytest && it.runs_pytest);
    if (!ok) {
        err_set(err,
                "pytest is not installed for %s, the Python that BUILDKITE_TEST_ENGINE_TEST_CMD "
                "('%s') runs (No module named pytest); install pytest for that Python or point "
                "the test command at the Python that has it",
                py, config_test_command(cfg));
    } else if (json_opt || junit_opt) {
        s->mode = json_opt ? MODE_JSON : MODE_JUNIT;
        s->why = xstrdup(json_opt ? "the test command names --json"
                                  : "the test command names --junit-xml");
    } else if (p.answered) {
        s->mode = mode_from_probe(words, py, &p, &s->why);
    } else {
        s->mode = MODE_JUNIT;
        s->why = unknown_why(&it, py, &p);
    }
    free(p.detail);
    free(py);
    interp_free(&it);
    return ok;
}

bool result_mode_resolve(const config_t *cfg, run_setup_t *s, char **err)
{
    memset(s, 0, sizeof *s);
    strlist_t words;
    strlist_init(&words);
    bool ok = check_commands(cfg, &words, err) && choose_mode(cfg, &words, s, err);
    if (ok) {
        s->test_cmd = with_result_option(config_test_command(cfg), s->mode);
        s->retry_cmd =
            *cfg->retry_cmd ? with_result_option(cfg->retry_cmd, s->mode) : xstrdup(s->test_cmd);
    }
    strlist_free(&words);
    return ok;
}

void result_mode_probe_ahead(const config_t *cfg)
{
    strlist_t words = STRLIST_INIT;
    strlist_t problems = STRLIST_INIT;
    cmdcheck_commands_words(cfg, &words, &problems);
    if (problems.len == 0 && words.len) {
        bool json_opt, junit_opt;
        result_options(&words, &json_opt, &junit_opt);
        interp_t it;
        choose_python(cfg, &words, &it);
        collector_probe_t p = {0};
        if (it.argv.len) probe_run(cfg->state_dir, &it.argv, !json_opt && !junit_opt, true, &p);
        free(p.detail);
        interp_free(&it);
    }
    strlist_free(&problems);
    strlist_free(&words);
}

void result_mode_free(run_setup_t *s)
{
    free(s->test_cmd);
    free(s->retry_cmd);
    free(s->why);
    memset(s, 0, sizeof *s);
}

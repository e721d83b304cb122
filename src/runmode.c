#include "runmode.h"
#include "buf.h"
#include "process.h"
#include "template.h"
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#define PROBE "import importlib.util,sys; sys.exit(0 if importlib.util.find_spec('buildkite_test_collector') else 3)"

const char *runmode_ext(run_mode_t m)
{
    return m == MODE_JSON ? "json" : "xml";
}

static bool collector_importable(const char *python)
{
    char *const argv[] = {(char *)python, "-c", PROBE, NULL};
    buf_t out;
    buf_init(&out);
    proc_opts_t o = {.argv = argv, .capture = &out, .timeout_s = 30};
    proc_result_t r;
    proc_run(&o, &r);
    buf_free(&out);
    return !r.start_failed && !r.signal && r.exit_code == 0;
}

/* The interpreter that will run pytest, if the command names one. */
static char *command_python(const char *tmpl)
{
    strlist_t words;
    strlist_init(&words);
    char *err = NULL, *py = NULL;
    if (template_split(tmpl, &words, &err)) {
        char *copy = xstrdup(words.items[0]);
        if (strncmp(basename(copy), "python", 6) == 0) py = xstrdup(words.items[0]);
        free(copy);
    }
    free(err);
    strlist_free(&words);
    return py;
}

static bool probe(const config_t *cfg, const char *tmpl, char **which)
{
    char *own = command_python(tmpl);
    const char *candidates[] = {*cfg->python ? cfg->python : NULL, own, "python3", "python"};
    bool found = false;
    for (size_t i = 0; i < 4 && !found; i++) {
        if (!candidates[i]) continue;
        if (collector_importable(candidates[i])) {
            found = true;
            *which = xstrdup(candidates[i]);
        }
    }
    free(own);
    return found;
}

static char *with_result_option(const char *tmpl, run_mode_t mode)
{
    if (strstr(tmpl, "{{resultPath}}")) return xstrdup(tmpl);
    return xasprintf("%s %s", tmpl, mode == MODE_JSON ? "--json={{resultPath}}" : "--junit-xml={{resultPath}}");
}

/* Both templates are checked before anything runs: a bad retry command must
 * be a configuration error now, not a surprise at the first retry. */
static bool check_template(const char *name, const char *tmpl, char **err)
{
    strlist_t words;
    strlist_init(&words);
    char *e = NULL;
    bool ok = template_split(tmpl, &words, &e);
    strlist_free(&words);
    if (!ok) {
        *err = xasprintf("%s: %s", name, e);
        free(e);
    }
    return ok;
}

bool runmode_resolve(const config_t *cfg, run_setup_t *s, char **err)
{
    memset(s, 0, sizeof *s);
    const char *base = *cfg->test_cmd ? cfg->test_cmd : "pytest {{testExamples}}";
    if (!check_template("BUILDKITE_TEST_ENGINE_TEST_CMD", base, err)) return false;
    if (*cfg->retry_cmd && !check_template("BUILDKITE_TEST_ENGINE_RETRY_CMD", cfg->retry_cmd, err)) return false;
    bool json_opt = template_has_option(base, "--json");
    bool junit_opt = template_has_option(base, "--junit-xml") || template_has_option(base, "--junitxml");
    char *py = NULL;
    if (json_opt) {
        s->mode = MODE_JSON;
        s->why = xstrdup("the test command names --json");
    } else if (junit_opt) {
        s->mode = MODE_JUNIT;
        s->why = xstrdup("the test command names --junit-xml");
    } else if (probe(cfg, base, &py)) {
        s->mode = MODE_JSON;
        s->why = xasprintf("buildkite-test-collector is importable by %s", py);
    } else {
        s->mode = MODE_JUNIT;
        s->why = xstrdup("buildkite-test-collector is not importable by python3 or python");
    }
    free(py);
    s->test_cmd = with_result_option(base, s->mode);
    s->retry_cmd = *cfg->retry_cmd ? with_result_option(cfg->retry_cmd, s->mode) : xstrdup(s->test_cmd);
    return true;
}

void runmode_free(run_setup_t *s)
{
    free(s->test_cmd);
    free(s->retry_cmd);
    free(s->why);
    memset(s, 0, sizeof *s);
}

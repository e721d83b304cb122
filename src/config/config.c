/* config: loading (defaults, plugin JSON, environment), the derived
 * identity and state dir, and the options saved for later phases. The table
 * is in config_options.c, validation and reporting in config_check.c. */
#include "config/config.h"
#include "base/text.h"
#include "config/config_options.h"
#include "base/buf.h"
#include "base/log.h"
#include <stdarg.h>
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool config_parse_bool(const char *s, bool *out)
{
    static const char *yes[] = {"true", "1", "on"};
    static const char *no[] = {"false", "0", "off"};
    for (size_t i = 0; i < 3; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return true;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

/* A whole number, white space around it allowed (env files often add some). */
static bool parse_whole_number(const char *s, long *out)
{
    size_t n = strlen(s);
    const char *digits = text_trim(s, &n);
    if (!n) return false;
    char *text = xstrndup(digits, n);
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    bool whole = !errno && *end == '\0';
    free(text);
    if (whole) *out = v;
    return whole;
}

void config_add_problem(config_t *cfg, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    strlist_push_owned(&cfg->problems, xvasprintf(fmt, ap));
    va_end(ap);
}

/* Plugin JSON values arrive as strings, numbers, booleans or (tags) arrays;
 * all become the text an env var would hold. */
static char *plugin_value_text(const cJSON *v)
{
    if (cJSON_IsString(v)) return xstrdup(v->valuestring);
    if (cJSON_IsBool(v)) return xstrdup(cJSON_IsTrue(v) ? "true" : "false");
    /* A whole number as its digits; anything else as written, so the option's
     * own check refuses it ("20.5" is not a retry count, and was taken as 20). */
    /* The range first: converting 1e300 to an integer type is undefined. */
    if (cJSON_IsNumber(v) && v->valuedouble > -1e15 && v->valuedouble < 1e15 &&
        v->valuedouble == (double)(long long)v->valuedouble)
        return xasprintf("%lld", (long long)v->valuedouble);
    if (cJSON_IsNumber(v)) return xasprintf("%.17g", v->valuedouble);
    if (cJSON_IsArray(v)) {
        buf_t b;
        buf_init(&b);
        const cJSON *item;
        cJSON_ArrayForEach(item, v)
        {
            if (!cJSON_IsString(item)) {
                buf_free(&b);
                return NULL;
            }
            if (b.len) buf_putc(&b, ',');
            buf_puts(&b, item->valuestring);
        }
        return buf_detach(&b);
    }
    return NULL;
}

static void store_option(config_t *cfg, const option_t *o, const char *text, const char *source)
{
    char *base = (char *)cfg;
    if (o->type == OPT_STR) {
        char **field = (char **)(base + o->offset);
        free(*field);
        *field = xstrdup(text ? text : "");
    } else if (o->type == OPT_INT) {
        long v = 0;
        if (!text || !*text) text = o->def ? o->def : "0";
        if (!parse_whole_number(text, &v))
            config_add_problem(cfg, "%s: '%s' is not a whole number; use a number from %ld to %ld",
                               source, text, o->min, o->max);
        else if (v < o->min || v > o->max)
            config_add_problem(cfg, "%s: %ld is out of range; use a number from %ld to %ld", source,
                               v, o->min, o->max);
        *(long *)(base + o->offset) = v;
    } else {
        bool v = false;
        if (!text || !*text) text = o->def ? o->def : "false";
        if (!config_parse_bool(text, &v))
            config_add_problem(cfg, "%s: '%s' is not a boolean; use true/false, 1/0 or on/off",
                               source, text);
        *(bool *)(base + o->offset) = v;
    }
}

static void load_plugin_json(config_t *cfg, bool *from_plugin)
{
    const char *raw = getenv("BUILDKITE_PLUGIN_CONFIGURATION");
    if (!raw || !*raw) return;
    cfg->plugin_json_seen = true;
    cJSON *root = cJSON_Parse(raw);
    if (!cJSON_IsObject(root)) {
        config_add_problem(cfg,
                           "BUILDKITE_PLUGIN_CONFIGURATION: not a JSON object; check the plugin's "
                           "options in pipeline.yml");
        cJSON_Delete(root);
        return;
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, root)
    {
        const char *key = item->string;
        /* read by the hooks alone (finding the binary happens before it runs) */
        if (strcmp(key, "binary") == 0 || strcmp(key, "release-url") == 0) continue;
        const option_t *o = config_option_by_plugin_key(key);
        if (!o) {
            config_add_problem(
                cfg, "plugin option '%s': unknown option; see plugin.yml for the accepted names",
                key);
            continue;
        }
        const char *env = getenv(o->env);
        if (env && *env) continue; /* an explicit env var wins */
        char *text = plugin_value_text(item);
        char *source = xasprintf("plugin option '%s'", key);
        if (!text)
            config_add_problem(cfg, "%s: unsupported value type; use a string, number or boolean",
                               source);
        else
            store_option(cfg, o, text, source);
        from_plugin[o - config_options] = text != NULL;
        free(text);
        free(source);
    }
    cJSON_Delete(root);
}

/* No suite and no token: nobody meant to use the API, so plan locally at
 * once instead of demanding both. The organisation does not count: Buildkite
 * sets it in every job, and a step that only splits (pytest-split's use) must
 * not need Test Engine. */
static bool nothing_of_the_api(const config_t *cfg)
{
    return !*cfg->suite_slug && !*cfg->api_token;
}

bool config_job_id_ok(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > 128 || !isalnum((unsigned char)id[0])) return false;
    for (const char *c = id; *c; c++)
        if (!isalnum((unsigned char)*c) && !strchr("._-", *c)) return false;
    return true;
}

/* The job id becomes a folder name: one that is no plain name (a '/', "..",
 * odd bytes), or set but empty inside a Buildkite build, is refused rather
 * than made into a path. */
static char *job_id_problem(const config_t *cfg)
{
    const char *raw = getenv("BUILDKITE_JOB_ID");
    bool in_build = *cfg->build_id != '\0';
    if (!*cfg->job_id && !(raw && !*raw && in_build)) return NULL; /* not a Buildkite job */
    if (*cfg->job_id && config_job_id_ok(cfg->job_id)) return NULL;
    return xasprintf("BUILDKITE_JOB_ID: '%.200s' is not a job id (1 to 128 letters, digits, '.', "
                     "'_' or '-', starting with a letter or digit); it names this job's state "
                     "folder, so nothing is written or removed with it; Buildkite sets it, so "
                     "check what overrides it, or set " TE "STATE_DIR",
                     cfg->job_id);
}

/* The state lives in the checkout, under a name made from the job's own
 * identity: a command phase inside a container that mounts only the checkout
 * (at any path) and has only the job's original environment finds it, and
 * another job, build or project never does. Without a Buildkite job id, the
 * job index and count keep local parallel runs apart. */
static void derive_identity(config_t *cfg)
{
    free(cfg->identifier);
    cfg->offline = nothing_of_the_api(cfg);
    if (*cfg->plan_identifier)
        cfg->identifier = xstrdup(cfg->plan_identifier);
    else if (*cfg->build_id && *cfg->step_id)
        cfg->identifier = xasprintf("%s/%s", cfg->build_id, cfg->step_id);
    else
        cfg->identifier = xstrdup(cfg->offline ? "local" : "");

    cfg->state_dir_chosen = *cfg->state_dir != '\0';
    free(cfg->state_dir_problem);
    cfg->state_dir_problem = NULL;
    if (!cfg->state_dir_chosen) {
        free(cfg->state_dir);
        cfg->state_dir_problem = job_id_problem(cfg);
        if (cfg->state_dir_problem)
            /* Never a path made of it: a name no job id can have, never created
             * (state_dir.h refuses to prepare, read or clean up with a problem). */
            cfg->state_dir = xstrdup(STATE_DIR_NAME "/(no valid job id)");
        else if (*cfg->job_id)
            cfg->state_dir = xasprintf(STATE_DIR_NAME "/%s", cfg->job_id);
        else
            cfg->state_dir = xasprintf(STATE_DIR_NAME "/local-%ld-of-%ld", cfg->parallel_job + 1,
                                       cfg->parallel_job_count);
    }
}

/* Options a plan phase saved for a command phase that cannot see them
 * (BUILDKITE_PLUGIN_CONFIGURATION exists only inside the plugin's hooks).
 * They fill only what this process's environment and plugin JSON left unset. */
void config_apply_saved(config_t *cfg, const cJSON *options, const char *source)
{
    const cJSON *item;
    cJSON_ArrayForEach(item, options)
    {
        const option_t *o = NULL;
        for (size_t i = 0; i < config_n_options && !o; i++)
            if (config_options[i].plugin && strcmp(config_options[i].env, item->string) == 0)
                o = &config_options[i];
        if (!o || !cJSON_IsString(item) || config_is_set(cfg, o->env)) continue;
        char *where = xasprintf("%s (saved by the plan phase in %s)", o->env, source);
        store_option(cfg, o, item->valuestring, where);
        free(where);
        strlist_push(&cfg->explicit_keys, o->env);
    }
    char *state_dir = cfg->state_dir_chosen ? xstrdup(cfg->state_dir) : NULL;
    free(cfg->state_dir);
    cfg->state_dir = state_dir ? state_dir : xstrdup("");
    derive_identity(cfg);
}

cJSON *config_saved_options(const config_t *cfg)
{
    cJSON *options = cJSON_CreateObject();
    const char *base = (const char *)cfg;
    for (size_t i = 0; i < config_n_options; i++) {
        const option_t *o = &config_options[i];
        /* Plugin options only: secrets and Buildkite's own variables are not
         * options and never written to disk. */
        if (!o->plugin || !config_is_set(cfg, o->env)) continue;
        char *text;
        if (o->type == OPT_STR)
            text = xstrdup(*(char *const *)(base + o->offset));
        else if (o->type == OPT_INT)
            text = xasprintf("%ld", *(const long *)(base + o->offset));
        else
            text = xstrdup(*(const bool *)(base + o->offset) ? "true" : "false");
        cJSON_AddStringToObject(options, o->env, text);
        free(text);
    }
    return options;
}

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a);
    size_t lb = strlen(b);
    if (la > 64 || lb > 64) return SIZE_MAX;
    size_t row[65];
    for (size_t j = 0; j <= lb; j++) row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* bktec's variables that are not options here, and what to do about each:
 * people migrate from bktec with their pipeline's environment intact. */
typedef struct {
    const char *name;
    const char *note; /* NULL: the runner check below */
} bktec_variable_t;

static const bktec_variable_t BKTEC_VARIABLES[] = {
    {TE "TEST_RUNNER", NULL},
    {TE "SELECTOR_SPLITTING",
     "is ignored (bktec v3 ignores it too): a slice too long for one command line is always run "
     "in parts; remove it"},
    {TE "SELECTOR_FILE",
     "is bktec's; here a file listing test files is BUILDKITE_TEST_ENGINE_FILES"},
    {TE "MODE", "was removed from bktec; remove it"},
    {TE "IDENTIFIER", "was renamed BUILDKITE_TEST_ENGINE_PLAN_IDENTIFIER; set that instead"},
};

/* BUILDKITE_TEST_ENGINE_TEST_RUNNER=pytest is what bktec needs: fine here;
 * another runner is a configuration error (this plugin runs pytest). */
static void check_test_runner(config_t *cfg, const char *value)
{
    size_t len = strlen(value);
    const char *v = text_trim(value, &len);
    if (len == 0 || (len == 6 && strncmp(v, "pytest", 6) == 0)) return;
    strlist_push_owned(&cfg->problems,
                       xasprintf(TE "TEST_RUNNER: '%.*s': this plugin runs pytest; unset it, or "
                                    "split that suite with bktec",
                                 (int)(len > 100 ? 100 : len), v));
}

/* A bktec variable: true when name is one (and said what to do about it). */
static bool bktec_variable(config_t *cfg, const char *name, const char *value)
{
    for (size_t i = 0; i < sizeof BKTEC_VARIABLES / sizeof BKTEC_VARIABLES[0]; i++) {
        if (strcmp(name, BKTEC_VARIABLES[i].name) != 0) continue;
        if (BKTEC_VARIABLES[i].note)
            strlist_push_owned(&cfg->warnings, xasprintf("%s %s", name, BKTEC_VARIABLES[i].note));
        else
            check_test_runner(cfg, value);
        return true;
    }
    return false;
}

/* bktec before 1.0 read BUILDKITE_SPLITTER_*: say what each became. */
static void warn_splitter_variable(config_t *cfg, const char *name)
{
    char *renamed = xasprintf(TE "%s", name + strlen("BUILDKITE_SPLITTER_"));
    if (config_option_known(renamed))
        strlist_push_owned(&cfg->warnings, xasprintf("%s was renamed %s (bktec 1.0); set that "
                                                     "instead: this one is not read",
                                                     name, renamed));
    else
        strlist_push_owned(&cfg->warnings,
                           xasprintf("%s is bktec's before 1.0 and is not read; see "
                                     "test-engine-pytest --help",
                                     name));
    free(renamed);
}

static void warn_misspelt(config_t *cfg, const char *name)
{
    const char *best = NULL;
    size_t best_d = 4;
    for (size_t i = 0; i < config_n_options; i++) {
        size_t d = edit_distance(name, config_options[i].env);
        if (d < best_d) {
            best_d = d;
            best = config_options[i].env;
        }
    }
    if (best)
        strlist_push_owned(&cfg->warnings,
                           xasprintf("%s is not an option; did you mean %s?", name, best));
    else
        strlist_push_owned(&cfg->warnings,
                           xasprintf("%s is not an option; see test-engine-pytest --help", name));
}

/* A misspelt variable is otherwise silently ignored: say so, with the
 * nearest real name; bktec's own variables get what to do instead. */
static void warn_unknown_variables(config_t *cfg)
{
    extern char **environ;
    for (char **e = environ; *e; e++) {
        bool splitter = strncmp(*e, "BUILDKITE_SPLITTER_", 19) == 0;
        if (strncmp(*e, TE, strlen(TE)) != 0 && !splitter) continue;
        size_t n = strcspn(*e, "=");
        char *name = xstrndup(*e, n);
        const char *value = (*e)[n] ? *e + n + 1 : "";
        if (splitter)
            warn_splitter_variable(cfg, name);
        else if (!config_option_known(name) && !bktec_variable(cfg, name, value))
            warn_misspelt(cfg, name);
        free(name);
    }
}

void config_load(config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    strlist_init(&cfg->problems);
    strlist_init(&cfg->explicit_keys);
    strlist_init(&cfg->warnings);
    bool *from_plugin = xcalloc(config_n_options, sizeof *from_plugin);
    /* Defaults first, so every string field is non-NULL. */
    for (size_t i = 0; i < config_n_options; i++)
        store_option(cfg, &config_options[i], config_options[i].def, config_options[i].env);
    load_plugin_json(cfg, from_plugin);
    for (size_t i = 0; i < config_n_options; i++) {
        const option_t *o = &config_options[i];
        const char *name = o->env;
        const char *v = getenv(name);
        if ((!v || !*v) && o->alias) {
            name = o->alias;
            v = getenv(name);
        }
        if (v && *v) {
            store_option(cfg, o, v, name);
            strlist_push(&cfg->explicit_keys, o->env);
        } else if (from_plugin[i]) {
            strlist_push(&cfg->explicit_keys, o->env);
        }
    }
    free(from_plugin);
    log_set_debug(cfg->debug);
    warn_unknown_variables(cfg);
    derive_identity(cfg);
    if (cfg->state_dir_problem) strlist_push(&cfg->problems, cfg->state_dir_problem);
}

bool config_is_set(const config_t *cfg, const char *env_name)
{
    return strlist_contains(&cfg->explicit_keys, env_name);
}

void config_free(config_t *cfg)
{
    char *base = (char *)cfg;
    /* Tokens must not linger in freed memory (explicit_bzero is not optimised away). */
    if (cfg->api_token) explicit_bzero(cfg->api_token, strlen(cfg->api_token));
    if (cfg->upload_token) explicit_bzero(cfg->upload_token, strlen(cfg->upload_token));
    for (size_t i = 0; i < config_n_options; i++)
        if (config_options[i].type == OPT_STR) free(*(char **)(base + config_options[i].offset));
    free(cfg->identifier);
    free(cfg->state_dir_problem);
    strlist_free(&cfg->problems);
    strlist_free(&cfg->explicit_keys);
    strlist_free(&cfg->warnings);
    memset(cfg, 0, sizeof *cfg);
}

const char *config_test_command(const config_t *cfg)
{
    return *cfg->test_cmd ? cfg->test_cmd : CONFIG_DEFAULT_TEST_CMD;
}

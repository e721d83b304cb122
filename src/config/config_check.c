/* config_check: judging a loaded configuration for one phase (every problem
 * collected, none fatal alone) and the two reports a phase prints from it. */
#include "config/config.h"
#include "config/config_options.h"
#include "base/buf.h"
#include "base/fs.h"
#include "base/log.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_https_url(const char *u)
{
    /* Only https: tokens must never cross a network in clear text. */
    if (strncmp(u, "https://", 8) == 0) return u[8] != '\0';
    return false;
}

long config_duration_seconds(const char *s)
{
    if (!*s) return -1;
    long total = 0;
    while (*s) {
        /* Digits only: strtol would take a sign or white space, and its
         * product with the unit could overflow (9999999999999999h) or wrap
         * (5124095576030432h became 3,584 s). */
        if (*s < '0' || *s > '9') return -1;
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (errno || v > CONFIG_DURATION_MAX_S) return -1;
        long unit = *end == 'h' ? 3600 : *end == 'm' ? 60 : 1;
        if (*end == 'h' || *end == 'm' || *end == 's')
            end++;
        else if (*end)
            return -1;
        long part;
        if (__builtin_mul_overflow(v, unit, &part) || __builtin_add_overflow(total, part, &total) ||
            total > CONFIG_DURATION_MAX_S)
            return -1;
        s = end;
    }
    return total;
}

static void validate_tags(config_t *cfg)
{
    if (!*cfg->tags) return;
    char *copy = xstrdup(cfg->tags);
    char *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(t, '=');
        if (!eq)
            config_add_problem(cfg, TE "TAGS: '%s' must use key=value format, e.g. team=payments",
                               t);
        else if (eq == t)
            config_add_problem(cfg, TE "TAGS: '%s' has an empty key", t);
    }
    free(copy);
}

/* bktec's one filter: key:value, split at the first ':' (the value may hold more). */
static void validate_tag_filters(config_t *cfg)
{
    const char *f = cfg->tag_filters;
    const char *colon = strchr(f, ':');
    if (*f && (!colon || colon == f || !colon[1]))
        config_add_problem(
            cfg,
            TE "TAG_FILTERS: '%s' is not key:value; give one execution tag, e.g. team:frontend", f);
}

static bool problem_listed(const config_t *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->problems.len; i++)
        if (strncmp(cfg->problems.items[i], name, strlen(name)) == 0) return true;
    return false;
}

bool config_validate(config_t *cfg, phase_t phase)
{
    if (cfg->parallel_job >= cfg->parallel_job_count &&
        !problem_listed(cfg, "BUILDKITE_PARALLEL_JOB"))
        config_add_problem(
            cfg, "BUILDKITE_PARALLEL_JOB: %ld must be less than BUILDKITE_PARALLEL_JOB_COUNT (%ld)",
            cfg->parallel_job, cfg->parallel_job_count);
    if (*cfg->ca_bundle && !fs_exists(cfg->ca_bundle))
        config_add_problem(cfg, TE "CA_BUNDLE: '%s' does not exist; give the path of a PEM file",
                           cfg->ca_bundle);
    if (*cfg->durations_file && !fs_exists(cfg->durations_file))
        config_add_problem(
            cfg, TE "DURATIONS_FILE: '%s' does not exist; give an existing file or unset it",
            cfg->durations_file);
    if (*cfg->files && !fs_exists(cfg->files))
        config_add_problem(
            cfg, TE "FILES: '%s' does not exist; give a file listing one test file per line",
            cfg->files);
    validate_tags(cfg);
    validate_tag_filters(cfg);
    long life = config_duration_seconds(cfg->oidc_lifetime);
    if (life <= 0 || life > 86400)
        config_add_problem(
            cfg,
            TE "OIDC_LIFETIME: '%s' is not a lifetime up to 24h; use seconds or a duration "
               "like 2h, 30m, 300s",
            cfg->oidc_lifetime);
    if (phase == PHASE_PLAN && !cfg->offline) {
        if (!*cfg->suite_slug)
            config_add_problem(
                cfg, TE "SUITE_SLUG: must not be blank; set the plugin's suite-slug option or "
                        "the variable");
        if (!*cfg->api_token && !problem_listed(cfg, TE "API_ACCESS_TOKEN"))
            config_add_problem(
                cfg, TE "API_ACCESS_TOKEN: must not be blank; set it from your secrets "
                        "manager, or leave " TE "OIDC on (the default) inside a Buildkite job");
        if (!*cfg->org_slug)
            config_add_problem(cfg,
                               "BUILDKITE_ORGANIZATION_SLUG: must not be blank; Buildkite sets it, "
                               "outside Buildkite set it yourself");
        if (!*cfg->identifier)
            config_add_problem(
                cfg, "BUILDKITE_BUILD_ID and BUILDKITE_STEP_ID: both are needed for the plan "
                     "identifier; or set " TE "PLAN_IDENTIFIER");
        if (!is_https_url(cfg->base_url))
            config_add_problem(cfg, TE "BASE_URL: '%s' is not an https:// URL", cfg->base_url);
    }
    if (phase == PHASE_REPORT && !is_https_url(cfg->upload_base_url))
        config_add_problem(cfg, TE "UPLOAD_BASE_URL: '%s' is not an https:// URL",
                           cfg->upload_base_url);
    return cfg->problems.len == 0;
}

void config_print_problems(const config_t *cfg, FILE *out)
{
    fprintf(out, TEP_NAME ": invalid configuration (%zu problem%s):\n", cfg->problems.len,
            cfg->problems.len == 1 ? "" : "s");
    /* Problems quote what the user or the environment gave: show it, never
     * let it steer the terminal or the build log. */
    buf_t line = BUF_INIT;
    for (size_t i = 0; i < cfg->problems.len; i++) {
        buf_reset(&line);
        log_escape(&line, cfg->problems.items[i]);
        fprintf(out, "  %s\n", line.data);
    }
    buf_free(&line);
    fflush(out);
}

void config_print_warnings(const config_t *cfg, FILE *out)
{
    buf_t line = BUF_INIT;
    for (size_t i = 0; i < cfg->warnings.len; i++) {
        buf_reset(&line);
        log_escape(&line, cfg->warnings.items[i]);
        fprintf(out, TEP_NAME ": warning: %s\n", line.data);
    }
    buf_free(&line);
    fflush(out);
}

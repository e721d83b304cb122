#include "plan/plan_tagfilter.h"
#include "base/buf.h"
#include "plan/collect_only.h"
#include "base/log.h"
#include "pytest/result_mode.h"
#include "pytest/selector.h"
#include "base/strset.h"
#include <stdlib.h>
#include <string.h>

void plan_tagfilter_log_broken_files(const strlist_t *broken)
{
    for (size_t i = 0; i < broken->len; i++)
        log_error("collection error in %s: pytest cannot import it; fix the file (a retry will "
                  "not help)",
                  broken->items[i]);
}

#define OPTION "BUILDKITE_TEST_ENGINE_TAG_FILTERS"

/* The filter lives in the collector, so its JSON mode is required. */
static int require_json_mode(const config_t *cfg)
{
    run_setup_t setup;
    char *err = NULL;
    if (!result_mode_resolve(cfg, &setup, &err)) {
        log_error("%s", err);
        free(err);
        return (int)cfg->config_exit_status;
    }
    bool json = setup.mode == MODE_JSON;
    if (!json)
        log_error(OPTION " '%s' needs buildkite-test-collector (its --tag-filters does the "
                         "filtering), but results would be JUnit XML: %s; install "
                         "buildkite-test-collector newer than 1.2.0 for the Python that runs "
                         "pytest, or remove the filter",
                  cfg->tag_filters, setup.why);
    result_mode_free(&setup);
    return json ? 0 : (int)cfg->config_exit_status;
}

/* How many files the node ids are in (hashed: a filter may match 100k ids). */
static size_t files_with_ids(const strlist_t *ids)
{
    strlist_t names = STRLIST_INIT; /* owns what the set borrows */
    strset_t files = STRSET_INIT;
    for (size_t i = 0; i < ids->len; i++) {
        char *f = selector_file_part(ids->items[i]);
        if (strset_has(&files, f)) {
            free(f);
            continue;
        }
        strlist_push_owned(&names, f);
        strset_add(&files, f);
    }
    size_t n = names.len;
    strset_free(&files);
    strlist_free(&names);
    return n;
}

/* Why the collection cannot be used as the filter's answer, or 0. */
static int check_collection(const config_t *cfg, const collect_only_result_t *cr, size_t n_files)
{
    const char *f = cfg->tag_filters;
    if (cr->broken_files.len) {
        plan_tagfilter_log_broken_files(&cr->broken_files);
        return (int)cfg->terminal_exit_status;
    }
    if (cr->unrecognized && strstr(cr->unrecognized, "--tag-filters"))
        log_error(
            OPTION
            " '%s': pytest does not know --tag-filters, so the collector the test command loads is "
            "missing or 1.2.0 or older (pytest: %s); upgrade buildkite-test-collector",
            f, cr->unrecognized);
    else if (cr->error && cr->exit_code == 127)
        log_error(
            OPTION
            " '%s': cannot collect the tests to filter: %s; the plan phase runs in pre-command, "
            "before the step's own setup (a virtualenv's activation, a cd), so name the "
            "interpreter by its path in the test command, e.g. .venv/bin/python -m pytest "
            "{{testExamples}}",
            f, cr->error);
    else if (cr->error)
        log_error(OPTION " '%s': cannot collect the tests to filter: %s", f, cr->error);
    else if (cr->foreign_ids)
        log_error(
            OPTION
            " '%s': pytest named %zu test%s outside the discovered files (e.g. '%s'): its rootdir "
            "is not the working directory; run from pytest's rootdir so node ids match the files",
            f, cr->foreign_ids, cr->foreign_ids == 1 ? "" : "s", cr->foreign_example);
    else if (!cr->node_ids.len)
        log_error(OPTION " '%s' matches no test in the %zu discovered file%s; check the key and "
                         "value against the @pytest.mark.execution_tag markers",
                  f, n_files, n_files == 1 ? "" : "s");
    else
        return 0;
    return (int)cfg->config_exit_status;
}

int plan_tagfilter_apply(const config_t *cfg, strlist_t *entries)
{
    int status = require_json_mode(cfg);
    if (status) return status;
    strlist_t options;
    strlist_init(&options);
    strlist_push(&options, "--tag-filters");
    strlist_push(&options, cfg->tag_filters);
    collect_only_result_t cr;
    collect_only_examples_with(config_test_command(cfg), &options, entries, &cr);
    status = check_collection(cfg, &cr, entries->len);
    if (!status) {
        log_info("Tag filter %s: %zu test%s in %zu of %zu files match; only they are planned",
                 cfg->tag_filters, cr.node_ids.len, cr.node_ids.len == 1 ? "" : "s",
                 files_with_ids(&cr.node_ids), entries->len);
        strlist_clear(entries);
        for (size_t i = 0; i < cr.node_ids.len; i++) strlist_push(entries, cr.node_ids.items[i]);
    }
    collect_only_result_free(&cr);
    strlist_free(&options);
    return status;
}

/* The plugin's configuration JSON (BUILDKITE_PLUGIN_CONFIGURATION, as the
 * agent hands it to the hooks): config_load on any bytes, validation for
 * each phase, and the hand-over to a command phase that cannot see it
 * (config_saved_options, then config_apply_saved in a fresh process's
 * configuration, as options.json carries them). Invariants: every problem
 * and warning prints as exactly one line; the saved options are strings; and
 * the command phase ends up with the same options, the same plan identifier
 * and (unless state-dir itself was an option) the same state folder as the
 * plan phase. */
#include "config/config.h"
#include "fuzz_util.h"
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_clean_environment();
    return 0;
}

static void print_problems(const void *cfg, FILE *f)
{
    config_print_problems(cfg, f);
}

static void print_warnings(const void *cfg, FILE *f)
{
    config_print_warnings(cfg, f);
}

static void check_reports(const config_t *cfg)
{
    FUZZ_CHECK(fuzz_lines_written(print_problems, cfg) == cfg->problems.len + 1);
    FUZZ_CHECK(fuzz_lines_written(print_warnings, cfg) == cfg->warnings.len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *json = fuzz_cstr(data, size);
    setenv("BUILDKITE_PLUGIN_CONFIGURATION", json, 1);
    config_t plan;
    config_load(&plan);
    unsetenv("BUILDKITE_PLUGIN_CONFIGURATION");
    FUZZ_CHECK(plan.plugin_json_seen == (*json != '\0'));
    check_reports(&plan);

    cJSON *saved = config_saved_options(&plan);
    const cJSON *item;
    cJSON_ArrayForEach(item, saved) FUZZ_CHECK(cJSON_IsString(item));

    config_t run;
    config_load(&run);
    config_apply_saved(&run, saved, "options.json");
    check_reports(&run);
    cJSON *again = config_saved_options(&run);
    /* A state-dir option is saved, but a command phase finds options.json
     * only in the folder it knows already: it keeps that one. */
    const char *state = "BUILDKITE_TEST_ENGINE_STATE_DIR";
    if (cJSON_GetObjectItemCaseSensitive(saved, state)) {
        cJSON_DeleteItemFromObjectCaseSensitive(saved, state);
        cJSON_DeleteItemFromObjectCaseSensitive(again, state);
    } else {
        FUZZ_CHECK(strcmp(plan.state_dir, run.state_dir) == 0);
    }
    FUZZ_CHECK(cJSON_Compare(saved, again, true));
    FUZZ_CHECK(strcmp(plan.identifier, run.identifier) == 0);
    FUZZ_CHECK(plan.offline == run.offline);

    (void)config_validate(&plan, PHASE_PLAN);
    check_reports(&plan);
    (void)config_validate(&run, PHASE_REPORT);
    check_reports(&run);

    cJSON_Delete(again);
    cJSON_Delete(saved);
    config_free(&run);
    config_free(&plan);
    free(json);
    return 0;
}

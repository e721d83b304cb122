/* options.json, the plugin options the plan phase saved for a command phase
 * that cannot see them: options_file_apply on any bytes in a state folder,
 * then the writer's round trip (options_file_write, then options_file_apply
 * in a fresh configuration). Invariants: a refusal is one line that names the
 * file; every problem the saved values raise prints as one line; and what the
 * command phase saves again reads back as the same options, the same plan
 * identifier and the same state folder. */
#include "config/config.h"
#include "fuzz_util.h"
#include "state/options_file.h"
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

/* A configuration as a command phase starts with, its state folder ours. */
static void load_in_fuzz_dir(config_t *cfg)
{
    config_load(cfg);
    free(cfg->state_dir);
    cfg->state_dir = strdup(fuzz_dir());
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *path = strdup(fuzz_dir_file("options.json", data, size));
    config_t run;
    load_in_fuzz_dir(&run);
    char *err = NULL;
    if (!options_file_apply(&run, &err)) {
        FUZZ_CHECK(fuzz_one_line(err) && strstr(err, path) != NULL);
        free(err);
        config_free(&run);
        free(path);
        return 0;
    }
    FUZZ_CHECK(err == NULL);
    FUZZ_CHECK(fuzz_lines_written(print_problems, &run) == run.problems.len + 1);
    cJSON *saved = config_saved_options(&run);

    /* Saved again (as a plan phase would) and applied again: the same. */
    char *state_dir = run.state_dir;
    run.state_dir = (char *)fuzz_dir();
    FUZZ_CHECK(options_file_write(&run, &err));
    run.state_dir = state_dir;
    config_t again;
    load_in_fuzz_dir(&again);
    FUZZ_CHECK(options_file_apply(&again, &err));
    FUZZ_CHECK(fuzz_lines_written(print_problems, &again) == again.problems.len + 1);
    cJSON *saved_again = config_saved_options(&again);
    FUZZ_CHECK(cJSON_Compare(saved, saved_again, true));
    FUZZ_CHECK(strcmp(run.identifier, again.identifier) == 0);
    FUZZ_CHECK(strcmp(run.state_dir, again.state_dir) == 0);

    cJSON_Delete(saved_again);
    cJSON_Delete(saved);
    config_free(&again);
    config_free(&run);
    free(path);
    return 0;
}

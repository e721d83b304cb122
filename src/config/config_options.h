/* config_options: the one table of settings behind config (internal: only
 * config.c, config_options.c and config_check.c include this header).
 *
 * One row per setting: its environment variable, the plugin.yml key, the
 * type, where it lands in config_t (settings.h), the default and the help text. Loading,
 * --help and the plugin.yml consistency export all read this table, so they
 * cannot drift apart. */
#ifndef TEP_CONFIG_OPTIONS_H
#define TEP_CONFIG_OPTIONS_H
#include <stdbool.h>
#include <stddef.h>

/* The prefix of every Test Engine variable (bktec's names). */
#define TE "BUILDKITE_TEST_ENGINE_"

typedef enum {
    OPT_STR,
    OPT_INT,
    OPT_BOOL
} opt_type_t;

typedef struct {
    const char *env;    /* environment variable */
    const char *alias;  /* a second accepted env name, or NULL */
    const char *plugin; /* plugin.yml key, NULL when env-only (secrets, Buildkite's own) */
    opt_type_t type;
    size_t offset;
    const char *def; /* default as text, NULL = empty */
    long min;        /* integer bounds */
    long max;
    const char *help;
} option_t;

extern const option_t config_options[];
extern const size_t config_n_options;

/* The option behind a plugin.yml key, or NULL when there is none. */
const option_t *config_option_by_plugin_key(const char *key);
/* Is name one of the table's variables (or an alias)? */
bool config_option_known(const char *name);

#endif

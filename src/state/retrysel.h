/* retrysel: the retry selectors that make Buildkite's automatic retry smart.
 *
 * After a failing run, report publishes this job's failed node ids (not muted,
 * not collection errors) as build meta-data under a key made of the step id and
 * the parallel job index. On a Buildkite job retry (BUILDKITE_RETRY_COUNT > 0),
 * plan reads them back and the job runs exactly those tests. A list too large
 * for meta-data goes into an artifact, and the meta-data holds a pointer
 * (artifact name and the uploading job's id: a retry downloads it with
 * --step <that job> --include-retried-jobs, the only way the agent finds an
 * earlier attempt's artifact).
 *
 * Value format (first line is a header, then one node id per line):
 *   #test-engine-pytest selectors v2 count=<n>
 *   #test-engine-pytest selectors v2 artifact=<name> job=<job id> count=<n>
 *   #test-engine-pytest selectors v2 none          (nothing to retry)
 * A node id is bytes (a file name need not be UTF-8) and meta-data is UTF-8
 * (the agent sends it as JSON, turning a stray byte into U+FFFD), so in v2 a
 * byte that is not part of valid UTF-8, and '%', are written %XX
 * (text_escape_bytes). v1 (ids as they are) is still read. */
#ifndef TEP_RETRYSEL_H
#define TEP_RETRYSEL_H
#include <stdbool.h>
#include "base/buf.h"
#include "config/config.h"
#include "base/err.h"
#include "base/strlist.h"

/* The meta-data key of this step and parallel job. Caller frees. */
char *retrysel_key(const config_t *cfg);
/* Reads what the previous attempt left under retrysel_key(cfg). true: *found
 * says whether the build has a value there (absence is no failure), and sel
 * gets the valid selectors; a refused one is passed to warn in one line
 * ("refused retry selector '<s>': <why>") and left out, so sel may end up
 * empty: nothing to retry. false with *err when the value is there but cannot
 * be used (not this format, an artifact reference this plugin did not write,
 * an artifact that cannot be downloaded or read) or the agent fails. This
 * module prints nothing. */
bool retrysel_load(const config_t *cfg, strlist_t *sel, bool *found, warn_fn warn, void *warn_user,
                   char **err);
/* Publishes `failed` (may be empty: "none"). *where says where the list went
 * (meta-data, or an artifact). Returns false with *err on failure. */
bool retrysel_publish(const config_t *cfg, const strlist_t *failed, char **where, char **err);
/* Parses a meta-data value: its lines after the header go to sel; *artifact
 * and *job get the artifact name and the job that uploaded it when the value
 * points to one (else NULL). false with *err when value is not in this
 * format. */
bool retrysel_parse(const char *value, strlist_t *sel, char **artifact, char **job, char **err);
/* Whether a name from meta-data is an artifact name this plugin writes. */
bool retrysel_artifact_name_ok(const char *name);

#endif

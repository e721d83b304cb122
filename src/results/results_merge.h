/* results_merge: merges pytest result files into one, byte for byte per test,
 * streaming.
 *
 * Two callers, two rules:
 *   - results_merge_concat: the parts of one attempt (a slice too large for one
 *     command line runs as several pytest invocations, each writing its own
 *     file, each given other entries) become that attempt's one file: every
 *     record of every part, in order, as one pytest run would have written
 *     them.
 *   - results_merge_final: the files of all attempts become the file at
 *     BUILDKITE_TEST_ENGINE_RESULT_PATH, holding each test's final outcome.
 *     Only failed tests are retried, so the later attempts' files are small:
 *     their records are held in a map (test -> its latest record), and the
 *     first attempt's file is streamed, each record replaced by the map's when
 *     a later attempt recorded the test again (collector JSON: same scope and
 *     name; JUnit: same classname and name). Tests only a later attempt ran
 *     follow at the end. Memory: the retried records, never the suite.
 *
 * Records are copied as pytest wrote them, so durations, failure texts and
 * tags survive; elements that are not test records (the run phase named
 * them) are left out. A JUnit result gets one <testsuite> whose counts are
 * those of the records written (the header is written first with room for
 * the counts, then filled in). A file that is missing or cannot be read to
 * its end adds one line to `problems` and contributes the records it has;
 * the output is written atomically (temporary file, then rename). */
#ifndef TEP_RESULTS_MERGE_H
#define TEP_RESULTS_MERGE_H
#include <stdbool.h>
#include <stddef.h>
#include "pytest/result_mode.h"
#include "base/strlist.h"

typedef struct {
    size_t files;    /* inputs read (missing ones excluded) */
    size_t records;  /* records written */
    size_t replaced; /* records dropped because a later file recorded the test again */
} results_merge_stats_t;

/* Both: false (with *err) only when the output cannot be written. */
bool results_merge_concat(result_mode_t mode, const strlist_t *inputs, const char *out,
                          results_merge_stats_t *stats, strlist_t *problems, char **err);
/* results_merge_concat, and the output's index beside it (results_index.h),
 * its durations keyed with the attempt's node-id prefix; no index when a
 * record could not be copied whole. */
bool results_merge_concat_indexed(result_mode_t mode, const strlist_t *inputs, const char *out,
                                  const char *prefix, results_merge_stats_t *stats,
                                  strlist_t *problems, char **err);
bool results_merge_final(result_mode_t mode, const strlist_t *inputs, const char *out,
                         results_merge_stats_t *stats, strlist_t *problems, char **err);

#endif

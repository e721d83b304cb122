/* resultfile: merges pytest result files into one, byte for byte per test.
 *
 * Two callers: the parts of one attempt (a slice too large for one command
 * line runs as several pytest invocations, each writing its own file) become
 * that attempt's one file; and the files of all attempts become the file at
 * BUILDKITE_TEST_ENGINE_RESULT_PATH, holding each test's final outcome.
 *
 * The rule is the same for both: files are read in order and a test recorded
 * again in a later file replaces its earlier record (collector JSON: same
 * scope and name; JUnit: same classname and name). Records are copied as
 * pytest wrote them, so durations, failure texts and tags survive; a JUnit
 * result gets one <testsuite> whose counts are those of the kept testcases.
 *
 * Two passes keep memory to one key per test plus one file (JUnit) or one
 * record (JSON) at a time. A file that is missing or cannot be read to its
 * end adds one line to `problems` and contributes the records it has; the
 * output is written atomically (temporary file, then rename). */
#ifndef TEP_RESULTFILE_H
#define TEP_RESULTFILE_H
#include <stdbool.h>
#include <stddef.h>
#include "runmode.h"
#include "strlist.h"

typedef struct {
    size_t files;       /* inputs read (missing ones excluded) */
    size_t records;     /* records written */
    size_t replaced;    /* records dropped because a later file recorded the test again */
} resultfile_stats_t;

/* false (with *err) only when the output cannot be written. */
bool resultfile_merge(run_mode_t mode, const strlist_t *inputs, const char *out, resultfile_stats_t *stats,
                      strlist_t *problems, char **err);

#endif

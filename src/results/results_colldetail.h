/* results_colldetail: the whole text of each collection error, for its real cause.
 *
 * The parsers keep one short line per failure, and for a collection error
 * that line is rarely the cause: the collector's failure_reason is the first
 * traceback line ("/usr/lib/.../_pytest/python.py:618: in _importtestmodule")
 * or "ImportError while importing test module ...", and the JUnit parser
 * keeps the first line of the <error> body. The cause ("E   ModuleNotFoundError:
 * No module named 'x'", a SyntaxError with its file and line) sits at the end
 * of the traceback: in the collector's failure_expanded, and in the body of
 * JUnit's <error message="collection failure">.
 *
 * So the collector's records are offered as the run reads them
 * (results_colldetail_offer_record, no second pass), and a JUnit result file is
 * scanned once more, only when the attempt recorded collection errors, for
 * those testcases; and each collection error's cause (results_cause_of) is taken from
 * the record's whole text instead of the line the parser kept. The text read
 * is bounded (RESULTS_COLLDETAIL_MAX): the first line plus the end of the traceback,
 * where the cause is; only the one-line cause is kept. */
#ifndef TEP_RESULTS_COLLDETAIL_H
#define TEP_RESULTS_COLLDETAIL_H
#include "results/results_model.h"
#include "pytest/result_mode.h"

#define RESULTS_COLLDETAIL_MAX (16 * 1024)

/* Fills in the causes of the collection errors of r that `path` holds; the
 * model's ids carry `prefix` (nodeid.h) before the file's own. */
void results_colldetail_fill(result_mode_t mode, const char *path, const char *prefix,
                             results_model_t *r);
/* The same for one collector record as it is read: its failure_reason and
 * failure_expanded; anything but a tracked collection error is left alone. */
void results_colldetail_offer_record(results_model_t *r, const test_record_t *rec);
/* Keeps text within RESULTS_COLLDETAIL_MAX: its first line, a marker, and its end.
 * Returns a new string (caller frees). Exposed for unit tests. */
char *results_colldetail_bound(const char *text);

#endif

/* nodeid: pytest's node ids as the run gives them back to pytest.
 *
 * pytest prints node ids relative to its rootdir: the directory of the
 * pytest.ini, pyproject.toml, tox.ini or setup.cfg it found (or -c named,
 * or --rootdir), else of a setup.py, else the arguments' common ancestor.
 * In a monorepo that is below the checkout: with services/api/pytest.ini,
 * services/api/tests/test_api.py::test_bad is "tests/test_api.py::test_bad".
 * pytest reads its arguments relative to the directory it runs in, which
 * for us is where `run` started it (the checkout's top). So every id the
 * plugin keeps, retries, publishes or prints gets the rootdir's path from
 * there before it ("services/api/"): the *prefix*. The collector's own
 * records are uploaded as it wrote them.
 *
 * The recorder (results_events.h) tells the rootdir and the invocation directory
 * exactly. Without it, a collector record tells the same thing: its
 * file_name is relative to where pytest ran, its scope to the rootdir. */
#ifndef TEP_NODEID_H
#define TEP_NODEID_H
#include <stdbool.h>

/* The prefix for ids pytest printed with rootdir, as seen from cwd (both
 * absolute): "" when they are the same directory, "a/b/" when rootdir is
 * below cwd. NULL (and *why, one line, caller frees) when rootdir is not at or
 * below cwd: then no relative id can name its tests. */
char *nodeid_prefix(const char *rootdir, const char *cwd, char **why);
/* The prefix a collector record shows: file_name less the scope's file part
 * when file_name ends with it at a path boundary, else "". */
char *nodeid_prefix_of_record(const char *scope, const char *file_name);
/* The id a result-file record's test runs by from where pytest ran: a
 * collector record shows its own prefix (its file_name against its scope);
 * a JUnit record takes its attempt's (attempt_prefix, may be NULL). Caller
 * frees. */
char *nodeid_of_record(const char *scope, const char *name, const char *file, const char *node_id,
                       bool collector_json, const char *attempt_prefix);
/* prefix + id (a copy when prefix is empty or NULL). */
char *nodeid_join(const char *prefix, const char *id);
/* The classname and name pytest's JUnit writer makes of a node id, joined by
 * '\x1f' (its mangle_test_address: the file as a dotted module, the class
 * parts after it; the parameters stay on the name). */
char *nodeid_junit_key(const char *node_id);

#endif

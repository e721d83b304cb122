/* plan_tagfilter: BUILDKITE_TEST_ENGINE_TAG_FILTERS, bktec's one key:value filter
 * on buildkite-test-collector's @pytest.mark.execution_tag(key, value).
 *
 * The filtering is the collector's own: the discovered files are collected
 * once (pytest --collect-only with the test command's launcher, see
 * collect_only.h) with the collector's --tag-filters, and the list of files is
 * replaced by the node ids that match. Those ids are then what every plan
 * splits: the server plan (sent as examples, as bktec does) and, unlike bktec,
 * the local fallback too, so each matching test runs exactly once across the
 * jobs and no other test runs. The run itself needs no filter.
 *
 * It needs the collector: the results must be in its JSON mode (result_mode.h),
 * and pytest must know --tag-filters (collector newer than 1.2.0). Anything
 * else is a configuration error at plan time, as is a filter that matches
 * nothing; a file that cannot be imported is a collection error (terminal). */
#ifndef TEP_PLAN_TAGFILTER_H
#define TEP_PLAN_TAGFILTER_H
#include "config/config.h"
#include "base/strlist.h"

/* Replaces `entries` (test files) by the matching node ids. Returns 0, or the
 * exit status to stop with (configuration or terminal), the reason logged. */
int plan_tagfilter_apply(const config_t *cfg, strlist_t *entries);

/* One error line per file pytest cannot import (a terminal outcome). */
void plan_tagfilter_log_broken_files(const strlist_t *broken);

#endif

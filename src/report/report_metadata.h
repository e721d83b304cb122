/* report_metadata: the test_plan_metadata body (bktec's shape): version, env
 * payload, the timeline of attempts and the statistics of the run. Sent only
 * for plans that came from the server. */
#ifndef TEP_REPORT_METADATA_H
#define TEP_REPORT_METADATA_H
#include "config/config.h"
#include "state/run_record.h"

char *report_metadata_body(const config_t *cfg, const run_record_t *rec);

#endif

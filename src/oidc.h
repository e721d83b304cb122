/* oidc: tokens minted by the Buildkite agent instead of stored secrets.
 *
 * When BUILDKITE_TEST_ENGINE_API_ACCESS_TOKEN (or, for uploads,
 * BUILDKITE_ANALYTICS_TOKEN) is blank and OIDC is on, we ask
 * `buildkite-agent oidc request-token --audience <base>/v2/analytics/
 * organizations/<org>/suites/<suite> --lifetime <seconds>`, like bktec. The
 * token goes from the agent's stdout into memory only: never printed, never
 * passed on to pytest. */
#ifndef TEP_OIDC_H
#define TEP_OIDC_H
#include <stdbool.h>
#include "config.h"

/* Fills cfg->api_token (for plan/run) or cfg->upload_token (for report) when
 * blank. Returns false with *err when minting was needed and failed; true
 * when nothing was needed or OIDC is off. */
bool oidc_fill_api_token(config_t *cfg, char **err);
bool oidc_fill_upload_token(config_t *cfg, char **err);

#endif

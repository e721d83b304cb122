/* oidc: tokens minted by the Buildkite agent instead of stored secrets.
 *
 * When BUILDKITE_TEST_ENGINE_API_ACCESS_TOKEN (or, for uploads,
 * BUILDKITE_ANALYTICS_TOKEN) is blank and OIDC is on, we ask
 * `buildkite-agent oidc request-token --audience <base>/v2/analytics/
 * organizations/<org>/suites/<suite> --lifetime <seconds>`, like bktec. The
 * token goes from the agent's stdout into memory only: never printed, never
 * passed on to pytest. This module prints nothing: the phase shows the note
 * it hands back. */
#ifndef TEP_OIDC_H
#define TEP_OIDC_H
#include <stdbool.h>
#include "base/buf.h"
#include "config/config.h"

/* Fills cfg->api_token (for plan/run) or cfg->upload_token (for report) when
 * blank. true when the token is there or nothing was to be done (OIDC off,
 * or the slugs missing: validation names those); *note is then NULL, or,
 * when a token was minted, the line for the phase to show ("Using an OIDC
 * token from buildkite-agent for <variable>"; caller frees). false with *err
 * when minting was needed and failed. */
bool oidc_fill_api_token(config_t *cfg, char **note, char **err);
bool oidc_fill_upload_token(config_t *cfg, char **note, char **err);

/* The token in the agent's stdout: its one line of text, trimmed, with no
 * control character; false with *err (one line) when there is none. On
 * true, *token is the caller's. Exposed for the fuzz target. */
bool oidc_read_token(const buf_t *out, char **token, char **err);

#endif

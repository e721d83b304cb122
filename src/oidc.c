#include "oidc.h"
#include "agent.h"
#include "buf.h"
#include "http.h"
#include "log.h"
#include "plan_api.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool mint(const config_t *cfg, char **token, char **err)
{
    char *audience = plan_api_url(cfg, ""); /* the suite's URL, as bktec uses */
    char lifetime[32];
    snprintf(lifetime, sizeof lifetime, "%ld", config_duration_seconds(cfg->oidc_lifetime));
    const char *args[] = {"oidc",       "request-token", "--audience", audience,
                          "--lifetime", lifetime,        NULL};
    buf_t out;
    buf_init(&out);
    /* Room for any token up front: a buffer that grew would leave copies of
     * the token behind in freed memory. */
    buf_reserve(&out, 16384);
    char *why = NULL;
    bool ok = agent_call(cfg, args, NULL, NULL, &out, &why);
    /* Trim; a token is one line of printable text. */
    char *t = out.data;
    while (*t && isspace((unsigned char)*t)) t++;
    size_t len = strlen(t);
    while (len && isspace((unsigned char)t[len - 1])) len--;
    if (ok && (len == 0 || memchr(t, '\n', len))) {
        ok = false;
        why = xstrdup("buildkite-agent printed no single-line token");
    }
    if (ok)
        *token = xstrndup(t, len);
    else
        *err = xasprintf("minting an OIDC token failed (%s)", why ? why : "unknown error");
    free(why);
    explicit_bzero(out.data, out.len);
    buf_free(&out);
    free(audience);
    return ok;
}

static bool fill(config_t *cfg, char **slot, const char *name, char **err)
{
    if (**slot || !cfg->oidc) return true;
    if (!*cfg->org_slug || !*cfg->suite_slug) return true; /* validation names what is missing */
    char *token = NULL;
    if (!mint(cfg, &token, err)) {
        char *e = *err;
        *err = xasprintf(
            "%s is blank and %s; set the variable, or run inside a Buildkite job whose agent may "
            "request OIDC tokens (BUILDKITE_TEST_ENGINE_OIDC=false turns this off)",
            name, e);
        free(e);
        return false;
    }
    http_wipe(*slot); /* blank, but wipe it all the same: it is a token slot */
    free(*slot);
    *slot = token;
    log_info("Using an OIDC token from buildkite-agent for %s", name);
    return true;
}

bool oidc_fill_api_token(config_t *cfg, char **err)
{
    return fill(cfg, &cfg->api_token, "BUILDKITE_TEST_ENGINE_API_ACCESS_TOKEN", err);
}

bool oidc_fill_upload_token(config_t *cfg, char **err)
{
    return fill(cfg, &cfg->upload_token, "BUILDKITE_ANALYTICS_TOKEN", err);
}

#include "net/oidc.h"
#include "base/text.h"
#include "net/agent.h"
#include "base/buf.h"
#include "base/err.h"
#include "net/http.h"
#include "net/engine_api.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A control character (a NUL, a CR) in s[0..len): no token has one, and it
 * would end the token early or split the Authorization header. */
static bool has_control(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) return true;
    return false;
}

bool oidc_read_token(const buf_t *out, char **token, char **err)
{
    size_t len = out->len;
    const char *t = text_trim(buf_str(out), &len);
    if (len == 0 || has_control(t, len))
        return err_set(err, "buildkite-agent printed no single-line token");
    *token = xstrndup(t, len);
    return true;
}

static bool mint_token(const config_t *cfg, char **token, char **err)
{
    char *audience = engine_api_url(cfg, ""); /* the suite's URL, as bktec uses */
    char lifetime[32];
    snprintf(lifetime, sizeof lifetime, "%ld", config_duration_seconds(cfg->oidc_lifetime));
    const char *args[] = {"oidc",       "request-token", "--audience", audience,
                          "--lifetime", lifetime,        NULL};
    buf_t out = BUF_INIT;
    /* Room for any token up front: a buffer that grew would leave copies of
     * the token behind in freed memory. */
    buf_reserve(&out, 16384);
    char *why = NULL;
    bool ok = agent_call(cfg, args, NULL, NULL, &out, &why) && oidc_read_token(&out, token, &why);
    if (!ok) err_set(err, "minting an OIDC token failed (%s)", why);
    free(why);
    explicit_bzero(out.data, out.len);
    buf_free(&out);
    free(audience);
    return ok;
}

static bool fill_token_slot(config_t *cfg, char **slot, const char *name, char **note, char **err)
{
    *note = NULL;
    if (**slot || !cfg->oidc) return true;
    if (!*cfg->org_slug || !*cfg->suite_slug) return true; /* validation names what is missing */
    char *token = NULL;
    char *why = NULL;
    if (!mint_token(cfg, &token, &why)) {
        err_set(err,
                "%s is blank and %s; set the variable, or run inside a Buildkite job whose agent "
                "may request OIDC tokens (BUILDKITE_TEST_ENGINE_OIDC=false turns this off)",
                name, why);
        free(why);
        return false;
    }
    http_wipe(*slot); /* blank, but wipe it all the same: it is a token slot */
    free(*slot);
    *slot = token;
    *note = xasprintf("Using an OIDC token from buildkite-agent for %s", name);
    return true;
}

bool oidc_fill_api_token(config_t *cfg, char **note, char **err)
{
    return fill_token_slot(cfg, &cfg->api_token, "BUILDKITE_TEST_ENGINE_API_ACCESS_TOKEN", note,
                           err);
}

bool oidc_fill_upload_token(config_t *cfg, char **note, char **err)
{
    return fill_token_slot(cfg, &cfg->upload_token, "BUILDKITE_ANALYTICS_TOKEN", note, err);
}

#include "state/retrysel.h"
#include "base/text.h"
#include "net/agent.h"
#include "base/buf.h"
#include "base/fs.h"
#include "base/jsontext.h"
#include "base/err.h"
#include "pytest/selector.h"
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define HEADER_V1       "#test-engine-pytest selectors v1"
#define HEADER          "#test-engine-pytest selectors v2"
#define ARTIFACT_PREFIX "retry-selectors-"

char *retrysel_key(const config_t *cfg)
{
    return xasprintf("test-engine-pytest:retry-selectors:%s:%ld",
                     *cfg->step_id ? cfg->step_id : cfg->identifier, cfg->parallel_job);
}

/* Names that reach buildkite-agent's argv come from meta-data anyone in the
 * build can write: only our own artifact names and plain job ids pass. */
static bool safe_word(const char *s, const char *extra)
{
    if (!*s || *s == '-' || strlen(s) > 200) return false;
    for (const char *c = s; *c; c++)
        if (!isalnum((unsigned char)*c) && !strchr(extra, *c)) return false;
    return true;
}

bool retrysel_artifact_name_ok(const char *name)
{
    return strncmp(name, ARTIFACT_PREFIX, strlen(ARTIFACT_PREFIX)) == 0 && safe_word(name, "._-") &&
           !strstr(name, "..") && strcmp(name + strlen(name) - 4, ".txt") == 0;
}

static char *header_field(const char *header, const char *key)
{
    char *needle = xasprintf(" %s=", key);
    const char *at = strstr(header, needle);
    char *v = at ? xstrndup(at + strlen(needle), strcspn(at + strlen(needle), " ")) : NULL;
    free(needle);
    return v;
}

/* ---- selector lines: node ids are bytes, meta-data is UTF-8 ---- */

static void push_selector_lines(strlist_t *sel, const char *text, bool escaped)
{
    strlist_t lines = STRLIST_INIT;
    strlist_push_lines(&lines, text);
    for (size_t i = 0; i < lines.len; i++) {
        char *s = escaped ? text_unescape_bytes(lines.items[i]) : xstrdup(lines.items[i]);
        /* a line that does not unescape stays as it is: the selector check refuses it */
        strlist_push_owned(sel, s ? s : xstrdup(lines.items[i]));
    }
    strlist_free(&lines);
}

bool retrysel_parse(const char *value, strlist_t *sel, char **artifact, char **job, char **err)
{
    *artifact = NULL;
    *job = NULL;
    bool v2 = strncmp(value, HEADER, strlen(HEADER)) == 0;
    if (!v2 && strncmp(value, HEADER_V1, strlen(HEADER_V1)) != 0)
        return err_set(err, "not in the retry selector format");
    const char *eol = strchr(value, '\n');
    char *header = eol ? xstrndup(value, (size_t)(eol - value)) : xstrdup(value);
    *artifact = header_field(header, "artifact");
    *job = header_field(header, "job");
    free(header);
    if (eol) push_selector_lines(sel, eol + 1, v2);
    return true;
}

/* The lines of a downloaded selectors file (an empty one holds none; one
 * over fs.h's read limit is refused, EFBIG). */
static bool read_selector_file(const char *path, strlist_t *sel, char **err)
{
    /* written by retrysel_publish with the v2 meta-data that points to it */
    char *text = fs_read_file(path, NULL);
    if (!text)
        return err_set(err, "cannot read the downloaded retry selectors artifact %s (%s)", path,
                       strerror(errno));
    push_selector_lines(sel, text, true);
    free(text);
    return true;
}

/* The artifact belongs to an earlier job of this retry chain: --step names
 * that job (the agent takes a step key, label or job id, not a step UUID), and
 * only --include-retried-jobs makes the agent look past the running retry. */
static bool read_artifact(const config_t *cfg, const char *name, const char *job, strlist_t *sel,
                          char **err)
{
    if (!retrysel_artifact_name_ok(name) || !job || !safe_word(job, "-"))
        return err_set(err,
                       "refused the retry selectors artifact reference (artifact '%.80s', job "
                       "'%.80s'): not one this plugin writes",
                       name, job ? job : "");
    const char *args[] = {
        "artifact", "download", name, cfg->state_dir, "--step", job, "--include-retried-jobs",
        NULL};
    char *why = NULL;
    if (!agent_call(cfg, args, NULL, NULL, NULL, &why)) {
        err_set(err, "cannot download retry selectors artifact %s (%s)", name, why);
        free(why);
        return false;
    }
    char *path = fs_join(cfg->state_dir, name);
    bool ok = read_selector_file(path, sel, err);
    free(path);
    return ok;
}

/* Moves the valid selectors of raw to sel; comment lines are skipped, a
 * refused selector is named to warn. */
static void keep_valid_selectors(const strlist_t *raw, strlist_t *sel, warn_fn warn,
                                 void *warn_user)
{
    selector_guard_t guard;
    selector_guard_init(&guard);
    for (size_t i = 0; i < raw->len; i++) {
        const char *s = raw->items[i];
        if (s[0] == '#') continue;
        const char *why = selector_guard_problem(&guard, s, strlen(s));
        if (!why) {
            strlist_push(sel, s);
            continue;
        }
        char *shown = text_excerpt(s, strlen(s), 200); /* from meta-data: one printable line */
        char *line = xasprintf("refused retry selector '%s': %s", shown, why);
        warn(warn_user, line);
        free(line);
        free(shown);
    }
    selector_guard_free(&guard);
}

/* The selectors in a meta-data value, from the artifact it points to when it
 * does. */
static bool read_selector_value(const config_t *cfg, const char *key, const char *value,
                                strlist_t *raw, char **err)
{
    char *artifact = NULL;
    char *job = NULL;
    char *why = NULL;
    bool ok = retrysel_parse(value, raw, &artifact, &job, &why);
    if (!ok)
        err_set(err, "meta-data %s is %s", key, why);
    else if (artifact)
        ok = read_artifact(cfg, artifact, job, raw, err);
    free(why);
    free(artifact);
    free(job);
    return ok;
}

bool retrysel_load(const config_t *cfg, strlist_t *sel, bool *found, warn_fn warn, void *warn_user,
                   char **err)
{
    *found = false;
    char *key = retrysel_key(cfg);
    char *value = NULL;
    char *why = NULL;
    bool ok = agent_metadata_get(cfg, key, &value, &why);
    if (!ok) err_set(err, "cannot read meta-data %s (%s)", key, why);
    if (ok && value) {
        *found = true;
        strlist_t raw;
        strlist_init(&raw);
        ok = read_selector_value(cfg, key, value, &raw, err);
        if (ok) keep_valid_selectors(&raw, sel, warn, warn_user);
        strlist_free(&raw);
    }
    free(why);
    free(value);
    free(key);
    return ok;
}

static void put_selector_lines(buf_t *b, const strlist_t *lines)
{
    for (size_t i = 0; i < lines->len; i++) {
        text_escape_bytes(lines->items[i], b);
        buf_putc(b, '\n');
    }
}

static bool publish_artifact(const config_t *cfg, const strlist_t *failed, char **name, char **err)
{
    *name = xasprintf(ARTIFACT_PREFIX "%s-%ld-attempt%ld.txt", *cfg->job_id ? cfg->job_id : "local",
                      cfg->parallel_job, cfg->job_retry_count);
    buf_t b = BUF_INIT;
    put_selector_lines(&b, failed);
    char *path = fs_join(cfg->state_dir, *name);
    bool ok = fs_write_file(path, b.data, b.len);
    free(path);
    buf_free(&b);
    if (!ok) return err_set(err, "cannot write the retry selectors file");
    const char *args[] = {"artifact", "upload", *name, NULL};
    return agent_call(cfg, args, NULL, cfg->state_dir, NULL, err);
}

bool retrysel_publish(const config_t *cfg, const strlist_t *failed, char **where, char **err)
{
    buf_t v;
    buf_init(&v);
    if (failed->len == 0) {
        buf_puts(&v, HEADER " none\n");
    } else {
        buf_printf(&v, HEADER " count=%zu\n", failed->len);
        put_selector_lines(&v, failed);
    }
    bool ok = true;
    char *key = retrysel_key(cfg);
    *where = NULL;
    if (v.len > (size_t)cfg->selectors_metadata_limit) {
        char *name = NULL;
        ok = publish_artifact(cfg, failed, &name, err);
        buf_reset(&v);
        buf_printf(&v, HEADER " artifact=%s job=%s count=%zu\n", name,
                   *cfg->job_id ? cfg->job_id : "local", failed->len);
        *where = xasprintf("artifact %s (meta-data %s points to it)", name, key);
        free(name);
    } else {
        *where = xasprintf("meta-data %s", key);
    }
    if (ok) ok = agent_metadata_set(cfg, key, v.data, err);
    free(key);
    buf_free(&v);
    return ok;
}

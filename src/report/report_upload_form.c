#include "report/report_upload_form.h"
#include "base/buf.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void add_mime_field(curl_mime *m, const char *name, const char *value)
{
    if (!value || !*value) return; /* empty values are left out */
    curl_mimepart *p = curl_mime_addpart(m);
    curl_mime_name(p, name);
    curl_mime_data(p, value, CURL_ZERO_TERMINATED);
}

static void add_run_env(curl_mime *m, const config_t *cfg, const char *cwd)
{
    const char *key = *cfg->build_id ? cfg->build_id : cfg->identifier;
    add_mime_field(m, "run_env[CI]", "buildkite");
    add_mime_field(m, "run_env[key]", key);
    add_mime_field(m, "run_env[branch]", cfg->branch);
    add_mime_field(m, "run_env[commit_sha]", cfg->commit);
    add_mime_field(m, "run_env[number]", cfg->build_number);
    add_mime_field(m, "run_env[url]", cfg->build_url);
    add_mime_field(m, "run_env[job_id]", cfg->job_id);
    add_mime_field(m, "run_env[message]", cfg->message);
    add_mime_field(m, "run_env[location_prefix]", cfg->location_prefix);
    add_mime_field(m, "run_env[collector]", "test-engine-pytest");
    add_mime_field(m, "run_env[test_runner]", "pytest");
    add_mime_field(m, "run_env[version]", TEP_VERSION);
    if (*cfg->build_id)
        add_mime_field(m, "run_env[cwd]", cwd); /* bktec sends it only on Buildkite */
}

static void add_tags(curl_mime *m, const config_t *cfg)
{
    if (!*cfg->tags) return;
    char *copy = xstrdup(cfg->tags);
    char *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(t, '=');
        if (!eq || eq == t) continue; /* config validation already named it */
        *eq = '\0';
        char *name = xasprintf("tags[%s]", t);
        add_mime_field(m, name, eq + 1);
        free(name);
    }
    free(copy);
}

/* The data part is read from our batch buffer, not copied into curl's own:
 * one batch in memory, not two. A new reader per attempt (http.c builds the
 * form again for each). */
typedef struct {
    const char *data;
    size_t len, pos;
} mime_reader_t;

static size_t mime_read(char *out, size_t size, size_t n, void *arg)
{
    mime_reader_t *r = arg;
    size_t want = size * n;
    size_t left = r->len - r->pos;
    size_t got = want < left ? want : left;
    memcpy(out, r->data + r->pos, got);
    r->pos += got;
    return got;
}

static int mime_seek(void *arg, curl_off_t offset, int origin)
{
    mime_reader_t *r = arg;
    if (origin != SEEK_SET || offset < 0 || (size_t)offset > r->len) return CURL_SEEKFUNC_CANTSEEK;
    r->pos = (size_t)offset;
    return CURL_SEEKFUNC_OK;
}

/* The data of a file curl cannot open: the transfer stops before the data
 * part is sent. curl_mime_filedata refuses such a file at once, but curl 8
 * (8.14, Debian 13) then sends the part empty and reports success where 7.x
 * failed the transfer; this makes it fail on every version. */
static size_t mime_read_refused(char *out, size_t size, size_t n, void *arg)
{
    (void)out, (void)size, (void)n, (void)arg;
    return CURL_READFUNC_ABORT;
}

curl_mime *report_upload_form(CURL *curl, void *part)
{
    const report_upload_part_t *p = part;
    curl_mime *m = curl_mime_init(curl);
    add_mime_field(m, "format", p->format);
    add_run_env(m, p->cfg, p->cwd);
    add_tags(m, p->cfg);
    curl_mimepart *d = curl_mime_addpart(m);
    curl_mime_name(d, "data");
    if (p->path) {
        /* curl reads it while sending: never in our memory */
        if (curl_mime_filedata(d, p->path) != CURLE_OK)
            curl_mime_data_cb(d, -1, mime_read_refused, NULL, NULL, NULL);
    } else {
        mime_reader_t *r = xcalloc(1, sizeof *r);
        r->data = p->data;
        r->len = p->len;
        curl_mime_data_cb(d, (curl_off_t)p->len, mime_read, mime_seek, free, r);
    }
    curl_mime_filename(d, p->filename);
    curl_mime_type(d, p->content_type);
    return m;
}

#include "results/results_merge.h"
#include "results/results.h"
#include "results/results_index.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/fs.h"
#include "base/strset.h"
#include <errno.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the output: one JSON array, or one JUnit document ---- */

enum {
    K_PASSED,
    K_FAILURE,
    K_ERROR,
    K_SKIPPED,
    K_KINDS
};

/* The JUnit header is written twice: first with zero counts, then, once the
 * counts are known, over itself. Padding before its '>' keeps the length. */
#define JUNIT_HEAD_WIDTH 256

typedef struct {
    result_mode_t mode;
    FILE *out;
    size_t written;
    size_t count[K_KINDS];
    size_t pos; /* bytes written so far: where the next record starts (the index's ranges) */
} writer_t;

static int record_kind(const test_record_t *rec)
{
    if (rec->status == ST_FAILED) return rec->error ? K_ERROR : K_FAILURE;
    return rec->status == ST_SKIPPED ? K_SKIPPED : K_PASSED;
}

static void junit_head(writer_t *w)
{
    char head[JUNIT_HEAD_WIDTH + 1];
    int n =
        snprintf(head, sizeof head,
                 "<?xml version=\"1.0\" encoding=\"utf-8\"?><testsuites><testsuite name=\"pytest\" "
                 "errors=\"%zu\" failures=\"%zu\" skipped=\"%zu\" tests=\"%zu\"",
                 w->count[K_ERROR], w->count[K_FAILURE], w->count[K_SKIPPED], w->written);
    memset(head + n, ' ', (size_t)(JUNIT_HEAD_WIDTH - 1 - n));
    head[JUNIT_HEAD_WIDTH - 1] = '>';
    fwrite(head, 1, JUNIT_HEAD_WIDTH, w->out);
}

static void writer_begin(writer_t *w)
{
    if (w->mode == MODE_JSON)
        fputc('[', w->out);
    else
        junit_head(w);
    w->pos = w->mode == MODE_JSON ? 1 : JUNIT_HEAD_WIDTH;
}

static void writer_put(writer_t *w, const char *bytes, size_t len, int kind)
{
    if (w->mode == MODE_JSON && w->written) {
        fputc(',', w->out);
        w->pos++;
    }
    fwrite(bytes, 1, len, w->out);
    w->pos += len;
    w->written++;
    w->count[kind]++;
}

static void writer_end(writer_t *w)
{
    if (w->mode == MODE_JSON) {
        fputc(']', w->out);
        return;
    }
    fputs("</testsuite></testsuites>\n", w->out);
    if (fseeko(w->out, 0, SEEK_SET) == 0) junit_head(w);
}

/* ---- JUnit records are byte ranges of their file: copied through a second
 * handle, in order, a piece at a time ---- */

typedef struct {
    FILE *f;
    off_t pos;
} source_t;

static bool source_seek(source_t *s, size_t start)
{
    if (s->pos == (off_t)start) return true;
    if (fseeko(s->f, (off_t)start, SEEK_SET) != 0) return false;
    s->pos = (off_t)start;
    return true;
}

/* Copies [start, end) of the source to out (or to b when out is NULL). */
static bool source_copy(source_t *s, size_t start, size_t end, FILE *out, buf_t *b)
{
    if (!s->f || !source_seek(s, start)) return false;
    char piece[65536];
    for (size_t left = end - start; left;) {
        size_t n = fread(piece, 1, left < sizeof piece ? left : sizeof piece, s->f);
        if (n == 0) return false;
        if (out)
            fwrite(piece, 1, n, out);
        else
            buf_append(b, piece, n);
        s->pos += (off_t)n;
        left -= n;
    }
    return true;
}

/* ---- the map of later attempts' records (results_merge_final) ---- */

typedef struct {
    char *key; /* "scope\x1fname" */
    char *bytes;
    size_t len;
    int kind;
    bool used; /* written in place of the first attempt's record */
} entry_t;

typedef struct {
    entry_t *entries; /* in the order tests first appeared */
    size_t len, cap;
    size_t *slots; /* open addressing into entries, SIZE_MAX = empty */
    size_t n_slots;
} map_t;

static size_t *map_slot(const map_t *m, const char *key)
{
    size_t mask = m->n_slots - 1;
    for (size_t i = strset_hash(key) & mask;; i = (i + 1) & mask)
        if (m->slots[i] == SIZE_MAX || strcmp(m->entries[m->slots[i]].key, key) == 0)
            return &m->slots[i];
}

static void map_grow(map_t *m)
{
    free(m->slots);
    m->n_slots = m->n_slots ? m->n_slots * 2 : 256;
    m->slots = xmalloc(m->n_slots * sizeof(size_t));
    memset(m->slots, 0xff, m->n_slots * sizeof(size_t));
    for (size_t i = 0; i < m->len; i++) *map_slot(m, m->entries[i].key) = i;
}

static entry_t *map_get(const map_t *m, const char *key)
{
    if (!m->len) return NULL;
    size_t i = *map_slot(m, key);
    return i == SIZE_MAX ? NULL : &m->entries[i];
}

/* Takes key and bytes. Returns whether it replaced an earlier record. */
static bool map_put(map_t *m, char *key, char *bytes, size_t len, int kind)
{
    if ((m->len + 1) * 2 > m->n_slots) map_grow(m);
    size_t *slot = map_slot(m, key);
    if (*slot != SIZE_MAX) {
        entry_t *e = &m->entries[*slot];
        free(key);
        free(e->bytes);
        e->bytes = bytes;
        e->len = len;
        e->kind = kind;
        return true;
    }
    if (m->len == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 64;
        m->entries = xrealloc(m->entries, m->cap * sizeof(entry_t));
    }
    *slot = m->len;
    m->entries[m->len++] = (entry_t){.key = key, .bytes = bytes, .len = len, .kind = kind};
    return false;
}

static void map_free(map_t *m)
{
    for (size_t i = 0; i < m->len; i++) {
        free(m->entries[i].key);
        free(m->entries[i].bytes);
    }
    free(m->entries);
    free(m->slots);
}

/* ---- reading the inputs ---- */

typedef struct {
    writer_t *w;
    map_t *map;
    source_t src;
    results_merge_stats_t *stats;
    size_t read; /* records of this input */
    bool copy_failed;
    results_index_writer_t *index; /* the output's index, or NULL */
    const char *prefix;            /* its node-id prefix */
    buf_t scratch;
} pass_t;

static char *record_key(const test_record_t *rec)
{
    return xasprintf("%s\x1f%s", rec->scope, rec->name);
}

/* The record's entry in the output's index: where the output holds it. */
static void index_record(pass_t *p, const test_record_t *rec, size_t start)
{
    results_index_entry_t e;
    results_index_entry_of_record(rec, p->w->mode, p->prefix, &p->scratch, &e);
    e.start = start;
    e.end = p->w->pos;
    results_index_writer_put(p->index, &e);
}

/* The record's own bytes, to the output. */
static void put_record(pass_t *p, const test_record_t *rec)
{
    if (p->w->mode == MODE_JSON) {
        writer_put(p->w, rec->raw, rec->raw_len, record_kind(rec));
        if (p->index) index_record(p, rec, p->w->pos - rec->raw_len);
        return;
    }
    size_t start = p->w->pos;
    if (!source_copy(&p->src, rec->start, rec->end, p->w->out, NULL)) {
        p->copy_failed = true;
        return;
    }
    p->w->pos += rec->end - rec->start;
    p->w->written++;
    p->w->count[record_kind(rec)]++;
    if (p->index) index_record(p, rec, start);
}

static void on_concat(const test_record_t *rec, void *user)
{
    pass_t *p = user;
    p->read++;
    if (!rec->problem) put_record(p, rec);
}

static void on_collect(const test_record_t *rec, void *user)
{
    pass_t *p = user;
    p->read++;
    if (rec->problem) return;
    buf_t bytes = BUF_INIT;
    if (p->w->mode == MODE_JSON)
        buf_append(&bytes, rec->raw, rec->raw_len);
    else if (!source_copy(&p->src, rec->start, rec->end, NULL, &bytes))
        p->copy_failed = true;
    size_t len = bytes.len;
    if (map_put(p->map, record_key(rec), buf_detach(&bytes), len, record_kind(rec)))
        p->stats->replaced++;
}

static void on_final(const test_record_t *rec, void *user)
{
    pass_t *p = user;
    p->read++;
    if (rec->problem) return;
    char *key = record_key(rec);
    entry_t *e = map_get(p->map, key);
    free(key);
    if (!e) {
        put_record(p, rec);
        return;
    }
    writer_put(p->w, e->bytes, e->len, e->kind);
    e->used = true;
    p->stats->replaced++;
}

/* Streams one input through fn; a problem reading it becomes one line. */
static void read_input(pass_t *p, const char *path, record_fn fn, strlist_t *problems)
{
    p->read = 0;
    p->copy_failed = false;
    p->src = (source_t){.f = p->w->mode == MODE_JUNIT ? fopen(path, "rb") : NULL};
    char *error = NULL;
    results_read_file(p->w->mode, path, fn, p, NULL, NULL, &error);
    if (error && problems)
        strlist_push_owned(
            problems, xasprintf("%s (kept the %zu records before the problem)", error, p->read));
    if (p->copy_failed && problems)
        strlist_push_owned(problems, xasprintf("%s changed while it was read", path));
    free(error);
    if (p->src.f) fclose(p->src.f);
    p->stats->files++;
}

/* ---- output file: fs.h's atomic write (exclusive temporary file, synced:
 * these are results) ---- */

/* The output being written: its atomic write and its writer. */
typedef struct {
    writer_t w;
    fs_atomic_t file;
} output_t;

static bool output_open(output_t *o, result_mode_t mode, const char *out,
                        results_merge_stats_t *stats, char **err)
{
    memset(stats, 0, sizeof *stats);
    memset(o, 0, sizeof *o);
    char *copy = xstrdup(out);
    fs_mkdirs(dirname(copy)); /* the user's result path may name a new folder */
    free(copy);
    if (!fs_atomic_begin_durable(&o->file, out))
        return err_set(err, "cannot write %s: %s", out, strerror(errno));
    o->w = (writer_t){.mode = mode, .out = o->file.f};
    return true;
}

static bool output_close(output_t *o, const char *out, results_merge_stats_t *stats, char **err)
{
    writer_end(&o->w);
    stats->records = o->w.written;
    if (fs_atomic_finish(&o->file)) return true;
    return err_set(err, "cannot write %s: %s", out, strerror(errno));
}

/* Copies every input into the output; with index (may be NULL), its entries too. */
static bool concat(result_mode_t mode, const strlist_t *inputs, const char *out,
                   results_index_writer_t *index, const char *prefix, results_merge_stats_t *stats,
                   strlist_t *problems, char **err)
{
    output_t o;
    if (!output_open(&o, mode, out, stats, err)) {
        if (index) results_index_writer_abandon(index);
        return false;
    }
    pass_t p = {.w = &o.w, .stats = stats, .index = index, .prefix = prefix};
    bool copied = true; /* every record whole: the index describes the output */
    writer_begin(&o.w);
    for (size_t i = 0; i < inputs->len; i++) {
        if (!fs_exists(inputs->items[i])) continue;
        read_input(&p, inputs->items[i], on_concat, problems);
        copied = copied && !p.copy_failed;
    }
    buf_free(&p.scratch);
    bool ok = output_close(&o, out, stats, err);
    if (!index) return ok;
    char *index_err = NULL;
    if (!ok || !copied)
        results_index_writer_abandon(index);
    else if (!results_index_writer_close(index, NULL, &index_err))
        free(index_err); /* no index: the report phase reads the file itself */
    return ok;
}

bool results_merge_concat(result_mode_t mode, const strlist_t *inputs, const char *out,
                          results_merge_stats_t *stats, strlist_t *problems, char **err)
{
    return concat(mode, inputs, out, NULL, NULL, stats, problems, err);
}

bool results_merge_concat_indexed(result_mode_t mode, const strlist_t *inputs, const char *out,
                                  const char *prefix, results_merge_stats_t *stats,
                                  strlist_t *problems, char **err)
{
    results_index_writer_t index;
    char *index_err = NULL;
    if (results_index_writer_open(&index, out, mode, prefix, &index_err))
        return concat(mode, inputs, out, &index, prefix, stats, problems, err);
    free(index_err); /* no index: the report phase reads the file itself */
    return concat(mode, inputs, out, NULL, NULL, stats, problems, err);
}

bool results_merge_final(result_mode_t mode, const strlist_t *inputs, const char *out,
                         results_merge_stats_t *stats, strlist_t *problems, char **err)
{
    output_t o;
    if (!output_open(&o, mode, out, stats, err)) return false;
    map_t map = {0};
    pass_t p = {.w = &o.w, .map = &map, .stats = stats};
    for (size_t i = 1; i < inputs->len; i++) /* the retries: small */
        if (fs_exists(inputs->items[i])) read_input(&p, inputs->items[i], on_collect, problems);
    writer_begin(&o.w);
    if (inputs->len && fs_exists(inputs->items[0]))
        read_input(&p, inputs->items[0], on_final, problems);
    for (size_t i = 0; i < map.len; i++) {
        const entry_t *e = &map.entries[i];
        if (!e->used) writer_put(&o.w, e->bytes, e->len, e->kind);
    }
    map_free(&map);
    return output_close(&o, out, stats, err);
}

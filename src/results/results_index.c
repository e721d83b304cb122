#include "results/results_index.h"
#include "model/durations_file.h"
#include "base/err.h"
#include "base/jsontext.h"
#include "pytest/nodeid.h"
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC        "TEPRIDX1"
#define HEADER_FIXED 80
/* A block is cut before it grows past this, unless one entry alone is larger. */
#define BLOCK_TARGET ((size_t)64 << 10)
#define BLOCK_MAX    (BLOCK_TARGET + RESULTS_INDEX_MAX_KEY + 64)
#define PREFIX_MAX   ((size_t)64 << 10)
/* How much of each end of the result file its identity hashes. */
#define ID_EDGE 4096

enum {
    F_UPLOAD = 1,
    F_TIMED = 2,
    F_RAW_KEY = 4
};

/* ---- bytes ---- */

static uint64_t le64(const unsigned char *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
           (uint64_t)p[7] << 56;
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le64(buf_t *b, uint64_t v)
{
    unsigned char p[8];
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
    buf_append(b, p, 8);
}

static void put_le32(buf_t *b, uint32_t v)
{
    unsigned char p[4];
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
    buf_append(b, p, 4);
}

static void put_varint(buf_t *b, uint64_t v)
{
    unsigned char p[10];
    size_t n = 0;
    do {
        p[n] = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v) p[n] |= 0x80;
        n++;
    } while (v);
    buf_append(b, p, n);
}

/* A varint at *pos below end; false when it runs past end or past 64 bits. */
static bool get_varint(const unsigned char *p, size_t end, size_t *pos, uint64_t *v)
{
    *v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (*pos >= end) return false;
        unsigned char c = p[(*pos)++];
        if (shift == 63 && c > 1) return false;
        *v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) return true;
    }
    return false;
}

/* ---- hashing: fast and the same on every host (not cryptographic: it
 * finds damage and accidents, and entries are compared whole on a hit) ---- */

#define K1 0x9E3779B97F4A7C15ULL
#define K2 0xC2B2AE3D27D4EB4FULL

static uint64_t rotl(uint64_t v, int n)
{
    return v << n | v >> (64 - n);
}

static uint64_t fmix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

/* Two lanes of 8 bytes at a time, so the multiplies overlap. */
static uint64_t hash64(uint64_t seed, const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t a = seed ^ K1, b = seed ^ K2 ^ len;
    for (; len >= 16; p += 16, len -= 16) {
        a = rotl(a ^ le64(p) * K2, 31) * K1;
        b = rotl(b ^ le64(p + 8) * K2, 29) * K1;
    }
    if (len >= 8) {
        a = rotl(a ^ le64(p) * K2, 31) * K1;
        p += 8;
        len -= 8;
    }
    uint64_t tail = 0;
    for (size_t i = 0; i < len; i++) tail |= (uint64_t)p[i] << (8 * i);
    b = rotl(b ^ (tail + len) * K2, 29) * K1;
    return fmix(a ^ rotl(b, 17));
}

uint32_t results_index_hash(const char *s, size_t len)
{
    uint64_t h = hash64(0, s, len);
    return (uint32_t)(h ^ h >> 32);
}

/* ---- entries ---- */

char *results_index_durations_id(const test_record_t *rec, result_mode_t mode, const char *prefix)
{
    if (rec->problem || rec->collection_error || !(rec->duration >= 0)) return NULL;
    return nodeid_of_record(rec->scope, rec->name, rec->file, rec->node_id, mode == MODE_JSON,
                            prefix);
}

/* Whether the artifact's key would be the id's own bytes (escapes aside):
 * not when a byte is not valid UTF-8 (jsontext makes it U+FFFD). */
static bool renders_whole(const char *id)
{
    for (const char *p = id; *p;) {
        if ((unsigned char)*p < 0x80) {
            p++;
            continue;
        }
        size_t n = jsontext_utf8_len(p);
        if (n == 0) return false;
        p += n;
    }
    return true;
}

void results_index_entry_of_record(const test_record_t *rec, result_mode_t mode, const char *prefix,
                                   buf_t *scratch, results_index_entry_t *e)
{
    memset(e, 0, sizeof *e);
    e->start = rec->start;
    e->end = rec->end;
    e->upload = mode == MODE_JUNIT || (rec->raw_len > 0 && rec->raw[0] == '{');
    char *id = results_index_durations_id(rec, mode, prefix);
    if (!id) return;
    size_t len = strlen(id);
    buf_reset(scratch);
    e->timed = true;
    e->seconds = rec->duration;
    e->key_hash = results_index_hash(id, len);
    e->key_raw = !renders_whole(id);
    if (e->key_raw)
        buf_append(scratch, id, len);
    else
        durations_file_put_key(scratch, id);
    e->key = scratch->data;
    e->key_len = scratch->len;
    free(id);
}

char *results_index_path(const char *result_path)
{
    return xasprintf("%s.index", result_path);
}

/* ---- an entry's key, checked: it goes into the durations artifact as it
 * is, so a key must be what durations_file_put_key writes (jsontext_put_string
 * with valid UTF-8) and nothing else: one JSON string literal whose escapes
 * are \\" \\\\ \\u0001-\\u001f and \\ufffd, every other byte printable ASCII or
 * valid UTF-8. Anything else would break the artifact (or add entries to
 * it). Bounded: the key is not NUL-terminated. ---- */

static bool is_lower_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* Length of the valid UTF-8 sequence at p (at most n bytes there), or 0. */
static size_t utf8_len_within(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
    if (len == 0 || c > 0xf4 || len > n) return 0;
    for (size_t i = 1; i < len; i++)
        if ((p[i] & 0xc0) != 0x80) return 0;
    if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f) || (c == 0xf0 && p[1] < 0x90) ||
        (c == 0xf4 && p[1] > 0x8f))
        return 0; /* overlong forms, surrogates, past U+10FFFF */
    return len;
}

/* Length of the escape at p (n bytes there, p[0] is the backslash), or 0. */
static size_t escape_len(const unsigned char *p, size_t n)
{
    if (n >= 2 && (p[1] == '"' || p[1] == '\\')) return 2;
    if (n < 6 || p[1] != 'u') return 0;
    if (memcmp(p + 2, "fffd", 4) == 0) return 6;
    bool control = p[2] == '0' && p[3] == '0' && (p[4] == '0' || p[4] == '1') && is_lower_hex(p[5]);
    return control && !(p[4] == '0' && p[5] == '0') ? 6 : 0;
}

/* Whether all 8 bytes of w are plain: 0x20-0x7f and neither '"' nor '\\'.
 * Each test is exact for "any byte": (x - 0x01..) & ~x & 0x80.. finds a zero
 * byte, and x - n*0x01.. a byte below n (n <= 0x80). */
static bool plain8(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t quote = w ^ ones * '"', backslash = w ^ ones * '\\';
    uint64_t need = (w & highs) | ((w - ones * 0x20) & ~w & highs) |
                    ((quote - ones) & ~quote & highs) | ((backslash - ones) & ~backslash & highs);
    return need == 0;
}

bool results_index_key_is_json(const char *key, size_t len)
{
    const unsigned char *p = (const unsigned char *)key;
    if (len < 2 || p[0] != '"' || p[len - 1] != '"') return false;
    size_t end = len - 1;
    for (size_t i = 1; i < end;) {
        while (end - i >= 8 && plain8(le64(p + i))) i += 8; /* 100,000 keys a report */
        while (i < end && p[i] >= 0x20 && p[i] < 0x80 && p[i] != '"' && p[i] != '\\')
            i++; /* plain ASCII, as node ids mostly are: no per-byte dispatch */
        if (i == end) break;
        size_t n = p[i] == '\\'                  ? escape_len(p + i, end - i)
                   : p[i] >= 0x80                ? utf8_len_within(p + i, end - i)
                   : p[i] >= 0x20 && p[i] != '"' ? 1
                                                 : 0;
        if (n == 0) return false;
        i += n;
    }
    return true;
}

/* ---- the result file's identity ---- */

static uint64_t edge_hash(int fd, off_t at, size_t n)
{
    unsigned char edge[ID_EDGE];
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, edge + got, n - got, at + (off_t)got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    return hash64((uint64_t)at, edge, got);
}

bool results_index_identify(const char *path, results_index_id_t *id)
{
    memset(id, 0, sizeof *id);
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC); /* a FIFO: refused, not waited on */
    if (fd < 0) return false;
    struct stat st;
    bool regular = fstat(fd, &st) == 0 && (S_ISREG(st.st_mode) || (errno = EINVAL, false));
    if (!regular) {
        int e = errno;
        close(fd);
        errno = e;
        return false;
    }
    id->size = (uint64_t)st.st_size;
    id->mtime_s = (uint64_t)st.st_mtim.tv_sec;
    id->mtime_ns = (uint64_t)st.st_mtim.tv_nsec;
    id->ino = (uint64_t)st.st_ino;
    id->dev = (uint64_t)st.st_dev;
    size_t edge = id->size < ID_EDGE ? (size_t)id->size : ID_EDGE;
    id->head = edge_hash(fd, 0, edge);
    id->tail = edge_hash(fd, (off_t)(id->size - edge), edge);
    close(fd);
    return true;
}

static bool same_id(const results_index_id_t *a, const results_index_id_t *b)
{
    return a->size == b->size && a->mtime_s == b->mtime_s && a->mtime_ns == b->mtime_ns &&
           a->ino == b->ino && a->dev == b->dev && a->head == b->head && a->tail == b->tail;
}

/* "size 12 -> 13" for the first field that differs. */
static char *id_difference(const results_index_id_t *was, const results_index_id_t *now)
{
    if (was->size != now->size)
        return xasprintf("its size was %llu bytes, it is %llu", (unsigned long long)was->size,
                         (unsigned long long)now->size);
    if (was->ino != now->ino || was->dev != now->dev) return xstrdup("it is another file now");
    if (was->mtime_s != now->mtime_s || was->mtime_ns != now->mtime_ns)
        return xstrdup("it was modified since");
    return xstrdup("its first or last bytes changed");
}

/* ---- the header ---- */

static void put_header(buf_t *b, result_mode_t mode, const results_index_id_t *id,
                       const char *prefix)
{
    size_t plen = strlen(prefix);
    buf_append(b, MAGIC, 8);
    unsigned char m[4] = {mode == MODE_JSON ? 1 : 2, 0, 0, 0};
    buf_append(b, m, 4);
    put_le32(b, (uint32_t)plen);
    uint64_t fields[] = {id->size, id->mtime_s, id->mtime_ns, id->ino, id->dev, id->head, id->tail};
    for (size_t i = 0; i < 7; i++) put_le64(b, fields[i]);
    buf_t checked = BUF_INIT;
    buf_append(&checked, b->data + b->len - (HEADER_FIXED - 8), HEADER_FIXED - 8);
    buf_append(&checked, prefix, plen);
    put_le64(b, hash64(0, checked.data, checked.len));
    buf_free(&checked);
    buf_append(b, prefix, plen);
}

/* ---- writing ---- */

bool results_index_writer_open(results_index_writer_t *w, const char *result_path,
                               result_mode_t mode, const char *prefix, char **err)
{
    memset(w, 0, sizeof *w);
    char *path = results_index_path(result_path);
    bool ok = fs_atomic_begin(&w->file, path);
    if (!ok) err_set(err, "cannot write %s (%s)", path, strerror(errno));
    free(path);
    if (!ok) return false;
    setvbuf(w->file.f, NULL, _IOFBF, BLOCK_TARGET);
    w->mode = mode;
    w->prefix = xstrdup(prefix ? prefix : "");
    w->result_path = xstrdup(result_path);
    if (strlen(w->prefix) > PREFIX_MAX) w->failed = true;
    buf_t head = BUF_INIT;
    results_index_id_t none = {0};
    put_header(&head, mode, &none, w->prefix); /* filled in once the file is known */
    fwrite(head.data, 1, head.len, w->file.f);
    buf_free(&head);
    return true;
}

static void flush_block(results_index_writer_t *w)
{
    if (!w->block_entries) return;
    buf_t frame = BUF_INIT;
    put_le32(&frame, (uint32_t)w->block.len);
    put_le32(&frame, w->block_entries);
    uint64_t before = w->entries - w->block_entries; /* the seed: a block moved is damage */
    uint64_t check = hash64(before ^ hash64(0, frame.data, 8), w->block.data, w->block.len);
    fwrite(frame.data, 1, frame.len, w->file.f);
    fwrite(w->block.data, 1, w->block.len, w->file.f);
    buf_reset(&frame);
    put_le64(&frame, check);
    fwrite(frame.data, 1, frame.len, w->file.f);
    buf_free(&frame);
    buf_reset(&w->block);
    w->block_entries = 0;
}

void results_index_writer_put(results_index_writer_t *w, const results_index_entry_t *e)
{
    if (w->failed) return;
    if (e->start < w->last_end || e->end < e->start ||
        (e->timed && e->key_len > RESULTS_INDEX_MAX_KEY)) {
        w->failed = true; /* never in a file a parser read; no index rather than a wrong one */
        return;
    }
    size_t room = 32 + (e->timed ? e->key_len + 24 : 0);
    if (w->block.len && w->block.len + room > BLOCK_TARGET) flush_block(w);
    buf_t *b = &w->block;
    put_varint(b, e->start - w->last_end);
    put_varint(b, e->end - e->start);
    unsigned char flags = (e->upload ? F_UPLOAD : 0) | (e->timed ? F_TIMED : 0) |
                          (e->timed && e->key_raw ? F_RAW_KEY : 0);
    buf_putc(b, (char)flags);
    if (e->timed) {
        put_le32(b, e->key_hash);
        uint64_t bits;
        memcpy(&bits, &e->seconds, 8);
        put_le64(b, bits);
        put_varint(b, e->key_len);
        buf_append(b, e->key, e->key_len);
    }
    w->block_entries++;
    w->entries++;
    w->last_end = e->end;
}

void results_index_writer_put_record(results_index_writer_t *w, const test_record_t *rec)
{
    results_index_entry_t e;
    results_index_entry_of_record(rec, w->mode, w->prefix, &w->scratch, &e);
    results_index_writer_put(w, &e);
}

static void writer_free(results_index_writer_t *w)
{
    free(w->prefix);
    free(w->result_path);
    buf_free(&w->block);
    buf_free(&w->scratch);
    memset(w, 0, sizeof *w);
}

void results_index_writer_abandon(results_index_writer_t *w)
{
    if (w->file.f) fs_atomic_abandon(&w->file);
    writer_free(w);
}

/* The trailer: the number of entries, checked. */
static void put_trailer(results_index_writer_t *w)
{
    buf_t t = BUF_INIT;
    put_le32(&t, 0);
    put_le32(&t, 0);
    put_le64(&t, w->entries);
    put_le64(&t, hash64(w->entries, t.data, 16));
    fwrite(t.data, 1, t.len, w->file.f);
    buf_free(&t);
}

bool results_index_writer_close(results_index_writer_t *w, const results_index_id_t *read_as,
                                char **err)
{
    results_index_id_t now;
    bool ok = !w->failed;
    if (!ok) err_set(err, "%s: records out of order; no index written", w->result_path);
    if (ok && !results_index_identify(w->result_path, &now))
        ok = err_set(err, "cannot read %s (%s)", w->result_path, strerror(errno));
    if (ok && read_as && !same_id(read_as, &now)) {
        char *why = id_difference(read_as, &now);
        ok = err_set(err, "%s changed while it was read (%s); no index written", w->result_path,
                     why);
        free(why);
    }
    if (!ok) {
        results_index_writer_abandon(w);
        return false;
    }
    flush_block(w);
    put_trailer(w);
    buf_t head = BUF_INIT;
    put_header(&head, w->mode, &now, w->prefix);
    bool written = fseeko(w->file.f, 0, SEEK_SET) == 0 &&
                   fwrite(head.data, 1, head.len, w->file.f) == head.len;
    buf_free(&head);
    char *path = results_index_path(w->result_path);
    if (!written) {
        err_set(err, "cannot write %s (%s)", path, strerror(errno));
        fs_atomic_abandon(&w->file);
    } else if (!fs_atomic_finish(&w->file)) {
        written = err_set(err, "cannot write %s (%s)", path, strerror(errno));
    }
    free(path);
    writer_free(w);
    return written;
}

/* ---- reading ---- */

static bool checksums_checked = true;

void results_index_set_checksums(bool checked)
{
    checksums_checked = checked;
}

struct results_index_reader {
    FILE *f;
    result_mode_t mode;
    results_index_id_t id;
    buf_t block;
    size_t pos;    /* the next entry's offset in block */
    uint32_t left; /* entries of the block not handed out yet */
    uint64_t handed;
    size_t last_end;
    bool dead; /* damage found: nothing more is handed out */
};

/* The index as a stream: a regular file, not followed through a link, and
 * opened without blocking (a FIFO in its place must not hang the report). */
static FILE *open_regular(const char *path)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return NULL;
    struct stat st;
    bool regular = fstat(fd, &st) == 0 && (S_ISREG(st.st_mode) || (errno = EINVAL, false));
    FILE *f = regular ? fdopen(fd, "rb") : NULL;
    if (!f) {
        int e = errno;
        close(fd);
        errno = e;
    }
    return f;
}

static bool read_exact(FILE *f, void *to, size_t n)
{
    return fread(to, 1, n, f) == n;
}

/* The header, checked: its own checksum, then the caller's mode and prefix,
 * then the result file as it is now. */
static bool check_header(results_index_reader_t *r, const char *result_path, result_mode_t mode,
                         const char *prefix, char **why)
{
    unsigned char h[HEADER_FIXED];
    if (!read_exact(r->f, h, sizeof h) || memcmp(h, MAGIC, 8) != 0)
        return err_set(why, "damaged: not an index of this version");
    uint32_t plen = le32(h + 12);
    if (plen > PREFIX_MAX) return err_set(why, "damaged: its header is not readable");
    buf_t checked = BUF_INIT;
    buf_append(&checked, h, HEADER_FIXED - 8);
    buf_reserve(&checked, plen);
    bool read = read_exact(r->f, checked.data + checked.len, plen);
    checked.len += read ? plen : 0;
    bool sound = read && hash64(0, checked.data, checked.len) == le64(h + HEADER_FIXED - 8);
    bool same_prefix = sound && plen == strlen(prefix) &&
                       memcmp(checked.data + HEADER_FIXED - 8, prefix, plen) == 0;
    buf_free(&checked);
    if (!sound) return err_set(why, "damaged: its header is not readable");
    if (h[8] != (mode == MODE_JSON ? 1 : 2))
        return err_set(why, "stale: it was made for the other result format");
    if (!same_prefix)
        return err_set(why, "stale: it was made with another node-id prefix than run.json's");
    uint64_t *f[] = {&r->id.size, &r->id.mtime_s, &r->id.mtime_ns, &r->id.ino,
                     &r->id.dev,  &r->id.head,    &r->id.tail};
    for (size_t i = 0; i < 7; i++) *f[i] = le64(h + 16 + 8 * i);
    results_index_id_t now;
    if (!results_index_identify(result_path, &now))
        return err_set(why, "the result file cannot be read (%s)", strerror(errno));
    if (!same_id(&r->id, &now)) {
        char *diff = id_difference(&r->id, &now);
        err_set(why, "stale: the result file is not the one it describes (%s)", diff);
        free(diff);
        return false;
    }
    return true;
}

results_index_reader_t *results_index_open(const char *result_path, result_mode_t mode,
                                           const char *prefix, bool *missing, char **why)
{
    *missing = false;
    char *path = results_index_path(result_path);
    FILE *f = open_regular(path);
    int e = errno;
    free(path);
    if (!f) {
        *missing = e == ENOENT;
        err_set(why, "%s", e == ENOENT ? "no index" : strerror(e));
        return NULL;
    }
    results_index_reader_t *r = xcalloc(1, sizeof *r);
    r->f = f;
    r->mode = mode;
    if (!check_header(r, result_path, mode, prefix ? prefix : "", why)) {
        results_index_close(r);
        return NULL;
    }
    return r;
}

static results_index_next_t damaged(results_index_reader_t *r, char **why, const char *what)
{
    err_set(why, "damaged: %s after entry %llu", what, (unsigned long long)r->handed);
    r->left = 0;
    r->dead = true;
    return RESULTS_INDEX_DAMAGED;
}

/* The trailer: the count must be the entries handed out, and nothing follows. */
static results_index_next_t read_trailer(results_index_reader_t *r, char **why)
{
    unsigned char t[16];
    if (!read_exact(r->f, t, sizeof t)) return damaged(r, why, "it ends without its trailer");
    buf_t again = BUF_INIT;
    put_le32(&again, 0);
    put_le32(&again, 0);
    buf_append(&again, t, 8);
    bool sound = le64(t) == r->handed &&
                 (!checksums_checked || hash64(r->handed, again.data, 16) == le64(t + 8));
    buf_free(&again);
    if (!sound) return damaged(r, why, "its trailer does not count the entries it has");
    if (fgetc(r->f) != EOF) return damaged(r, why, "data after its trailer");
    return RESULTS_INDEX_END;
}

static results_index_next_t read_block(results_index_reader_t *r, char **why)
{
    unsigned char frame[8];
    if (!read_exact(r->f, frame, 8)) return damaged(r, why, "it ends without its trailer");
    uint32_t len = le32(frame), n = le32(frame + 4);
    if (len == 0 && n == 0) return read_trailer(r, why);
    if (len == 0 || len > BLOCK_MAX || n == 0 || n > len)
        return damaged(r, why, "a block's size is not readable");
    buf_reset(&r->block);
    buf_reserve(&r->block, (size_t)len + 8);
    if (!read_exact(r->f, r->block.data, (size_t)len + 8))
        return damaged(r, why, "it ends inside a block");
    r->block.len = len;
    uint64_t check = hash64(r->handed ^ hash64(0, frame, 8), r->block.data, len);
    if (checksums_checked && check != le64((unsigned char *)r->block.data + len))
        return damaged(r, why, "a block's checksum does not match");
    r->pos = 0;
    r->left = n;
    return RESULTS_INDEX_ENTRY;
}

static results_index_next_t decode_entry(results_index_reader_t *r, results_index_entry_t *e,
                                         char **why)
{
    const unsigned char *p = (const unsigned char *)r->block.data;
    size_t end = r->block.len;
    uint64_t gap, len, key_len = 0;
    memset(e, 0, sizeof *e);
    if (!get_varint(p, end, &r->pos, &gap) || !get_varint(p, end, &r->pos, &len) || r->pos >= end)
        return damaged(r, why, "an entry is cut short");
    unsigned char flags = p[r->pos++];
    if (flags & ~(F_UPLOAD | F_TIMED | F_RAW_KEY) || ((flags & F_RAW_KEY) && !(flags & F_TIMED)))
        return damaged(r, why, "an entry is not readable");
    if (gap > r->id.size - r->last_end || len > r->id.size - r->last_end - gap)
        return damaged(r, why, "an entry's bytes lie outside the result file");
    e->start = r->last_end + (size_t)gap;
    e->end = e->start + (size_t)len;
    e->upload = flags & F_UPLOAD;
    e->timed = flags & F_TIMED;
    e->key_raw = flags & F_RAW_KEY;
    if (e->timed) {
        if (end - r->pos < 12) return damaged(r, why, "an entry is cut short");
        e->key_hash = le32(p + r->pos);
        uint64_t bits = le64(p + r->pos + 4);
        memcpy(&e->seconds, &bits, 8);
        r->pos += 12;
        if (!(e->seconds >= 0) || !isfinite(e->seconds) || !get_varint(p, end, &r->pos, &key_len) ||
            key_len > RESULTS_INDEX_MAX_KEY || key_len > end - r->pos)
            return damaged(r, why, "an entry's durations are not readable");
        e->key = (const char *)p + r->pos;
        e->key_len = (size_t)key_len;
        if (!e->key_raw && !results_index_key_is_json(e->key, e->key_len))
            return damaged(r, why, "an entry's node id is not a JSON string");
        r->pos += (size_t)key_len;
    }
    if (--r->left == 0 && r->pos != end) return damaged(r, why, "a block holds more than it says");
    r->last_end = e->end;
    r->handed++;
    return RESULTS_INDEX_ENTRY;
}

results_index_next_t results_index_next(results_index_reader_t *r, results_index_entry_t *e,
                                        char **why)
{
    if (r->dead) return damaged(r, why, "damage found before");
    if (r->left == 0) {
        results_index_next_t got = read_block(r, why);
        if (got != RESULTS_INDEX_ENTRY) return got;
    }
    return decode_entry(r, e, why);
}

size_t results_index_count(const results_index_reader_t *r)
{
    return (size_t)r->handed;
}

void results_index_close(results_index_reader_t *r)
{
    if (!r) return;
    if (r->f) fclose(r->f);
    buf_free(&r->block);
    free(r);
}

#include "model/durations_file.h"
#include "base/text.h"
#include "model/durations_lex.h"
#include "base/jsontext.h"
#include "base/warncap.h"
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

typedef struct {
    durations_lex_t lex; /* the stream, its cursor and the first fatal problem */
    const durations_file_opts_t *o;
    durations_file_entries_t *out;
    warncap_t bad; /* bad entries: named up to the cap, then counted */
    buf_t key;     /* scratch: the member's key */
} reader_t;

void durations_file_add(durations_file_entries_t *e, const char *key, size_t len, double seconds,
                        unsigned src)
{
    if (e->len == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 256;
        e->items = xrealloc(e->items, e->cap * sizeof *e->items);
    }
    e->items[e->len++] =
        (durations_file_entry_t){.key = e->arena.len, .seconds = seconds, .src = src};
    buf_append(&e->arena, key, len);
    buf_append(&e->arena, "", 1); /* keys are NUL-separated in the arena */
}

void durations_file_entries_free(durations_file_entries_t *e)
{
    buf_free(&e->arena);
    free(e->items);
    memset(e, 0, sizeof *e);
}

static void reader_add(reader_t *r, const char *key, size_t len, double seconds)
{
    durations_file_add(r->out, key, len, seconds, r->o->src);
}

/* One line per bad entry up to the cap, then only counted. */
static void refuse_entry(reader_t *r, const char *where, const char *what, const char *why)
{
    if (!warncap_next(&r->bad)) return;
    const durations_file_opts_t *o = r->o;
    if (o->strict)
        warncap_say(&r->bad, "%s '%s' %s: %s %s", o->label, r->lex.path, where, what, why);
    else
        warncap_say(&r->bad, "%s '%s' %s: %s %s; entry ignored", o->label, r->lex.path, where, what,
                    why);
}

/* NULL when seconds is a usable duration, else why not. NaN fails every
 * comparison, so the checks let only good values through. */
static const char *duration_problem(double seconds)
{
    if (!isfinite(seconds)) return "is not a finite number";
    if (!(seconds >= 0)) return "is negative";
    if (!(seconds <= DURATIONS_FILE_MAX_S))
        return "is longer than a week, which no test file takes";
    return NULL;
}

/* s is NUL-terminated and holds no NUL before n. */
static bool valid_utf8(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t len = jsontext_utf8_len(s + i);
        if (!len) return false;
        i += len;
    }
    return true;
}

/* Why a key cannot name a file or test, or NULL. */
static const char *key_problem(const reader_t *r, const char *key, size_t len)
{
    if (len == 0) return "is an empty path";
    if (strlen(key) != len) return "contains a NUL byte";
    if (strncmp(key, "::", 2) == 0) return "has no file part";
    if (r->o->strict && !valid_utf8(key, len)) return "is not valid UTF-8";
    return NULL;
}

/* ---- pytest-split JSON in ---- */

static void take_json_entry(reader_t *r, const char *key, size_t len, bool unpaired,
                            const char *value_problem, double v)
{
    /* Keys are shown cut short: the message stays one readable line. */
    char *where = xasprintf("key '%.80s%s'", key, len > 80 ? "..." : "");
    for (char *c = where; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = '?';
    const char *why = value_problem ? value_problem : duration_problem(v);
    const char *what = "value";
    if (!why) {
        what = "the key";
        why = unpaired ? "has an unpaired UTF-16 surrogate" : key_problem(r, key, len);
    }
    if (why)
        refuse_entry(r, where, what, why);
    else
        reader_add(r, key, len, v);
    free(where);
}

static bool read_member(reader_t *r)
{
    durations_lex_t *x = &r->lex;
    if (x->c != '"')
        return durations_lex_fail(x,
                                  "not a JSON object of path to seconds (expected a quoted key)");
    bool unpaired;
    if (!durations_lex_string(x, &r->key, &unpaired)) return false;
    durations_lex_skip_ws(x);
    if (x->c != ':') return durations_lex_fail(x, "not JSON: expected ':' after a key");
    durations_lex_advance(x);
    durations_lex_skip_ws(x);
    double v = 0;
    const char *value_problem = NULL;
    if (durations_lex_at_number(x)) {
        if (!durations_lex_number(x, &v)) return false;
    } else {
        if (!durations_lex_skip_value(x)) return false;
        value_problem = "is not a number of seconds";
    }
    take_json_entry(r, r->key.data ? r->key.data : "", r->key.len, unpaired, value_problem, v);
    return true;
}

static bool read_json_members(reader_t *r)
{
    durations_lex_t *x = &r->lex;
    for (;;) {
        if (!read_member(r)) return false;
        durations_lex_skip_ws(x);
        if (x->c == '}') {
            durations_lex_advance(x);
            return true;
        }
        if (x->c != ',')
            return durations_lex_fail(x, x->c == EOF
                                             ? "the file ends before the JSON object closes"
                                             : "not JSON: expected ',' or '}' after a value");
        durations_lex_advance(x);
        durations_lex_skip_ws(x);
    }
}

static bool read_json(reader_t *r)
{
    durations_lex_t *x = &r->lex;
    durations_lex_advance(x); /* the '{' */
    durations_lex_skip_ws(x);
    if (x->c == '}')
        durations_lex_advance(x);
    else if (!read_json_members(r))
        return false;
    durations_lex_skip_ws(x);
    if (x->c != EOF)
        return durations_lex_fail(
            x, "more text after the JSON object's closing '}' (to combine durations files, use "
               "`test-engine-pytest durations merge`)");
    return true;
}

/* ---- "<seconds> <path>" lines in ---- */

/* The seconds field: plain decimal only, so strtod never sees "nan", "inf"
 * or hex floats. */
static bool plain_decimal(const char *s, size_t n)
{
    bool digit = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9')
            digit = true;
        else if (!strchr(".eE+-", c))
            return false;
    }
    return digit;
}

/* "nan", "-inf", "Infinity", "nan(0x1)": what strtod would turn into a
 * non-finite number. */
static bool names_non_finite(const char *s, size_t n)
{
    if (n && (*s == '+' || *s == '-')) {
        s++;
        n--;
    }
    return n >= 3 && (strncasecmp(s, "nan", 3) == 0 || strncasecmp(s, "inf", 3) == 0);
}

/* One trimmed, non-empty, non-comment line, NUL-terminated. */
static bool parse_line(reader_t *r, const char *s, size_t lineno)
{
    size_t n = strcspn(s, " \t\v\f\r");
    size_t rest_len = strlen(s + n);
    const char *rest = text_trim(s + n, &rest_len); /* the line is trimmed: rest runs to its end */
    char where[48];
    snprintf(where, sizeof where, "line %zu", lineno);
    if (rest_len && names_non_finite(s, n)) {
        refuse_entry(r, where, "seconds", "is not a finite number");
        return true;
    }
    char *end = NULL;
    double v = plain_decimal(s, n) ? strtod(s, &end) : 0;
    if (end != s + n || !rest_len)
        return err_set(&r->lex.err, "%s '%s' line %zu: expected '<seconds> <path>'", r->o->label,
                       r->lex.path, lineno);
    const char *why = duration_problem(v);
    if (why)
        refuse_entry(r, where, "seconds", why);
    else if ((why = key_problem(r, rest, rest_len)))
        refuse_entry(r, where, "the path", why);
    else
        reader_add(r, rest, rest_len, v);
    return true;
}

/* One line into `line` (without its newline), through the lexer's cursor so
 * the file's size limit holds; a line longer than DURATIONS_LEX_MAX_TEXT (a
 * file that is not text: /dev/zero has no newline at all) is a problem.
 * Returns false at the end of the file or on a problem. */
static bool next_line(durations_lex_t *x, buf_t *line, bool *more)
{
    buf_reset(line);
    *more = x->c != EOF;
    while (x->c != EOF && x->c != '\n') {
        if (x->c == '\0')
            return durations_lex_fail(x, "contains a NUL byte; a durations file is text");
        buf_putc(line, (char)x->c);
        if (line->len > DURATIONS_LEX_MAX_TEXT)
            return durations_lex_fail(x, "a line longer than 64 KiB; a durations file is text");
        durations_lex_advance(x);
    }
    return !x->err;
}

static bool read_lines(reader_t *r)
{
    durations_lex_t *x = &r->lex;
    buf_t line = BUF_INIT;
    bool ok = true, more = true;
    while (ok && more) {
        size_t lineno = x->line;
        ok = next_line(x, &line, &more);
        if (!ok || !more) break;
        if (x->c == '\n') durations_lex_advance(x); /* counts the line */
        more = x->c != EOF;
        if (line.len == 0) continue;
        size_t n = line.len;
        char *s = (char *)text_trim(buf_str(&line), &n);
        s[n] = '\0';
        if (*s && *s != '#') ok = parse_line(r, s, lineno);
    }
    buf_free(&line);
    return ok && !x->err;
}

/* ---- the file ---- */

/* Past the byte order mark some editors write, and blank lines. */
static void skip_preamble(durations_lex_t *x)
{
    durations_lex_advance(x);
    if (x->c == 0xEF) {
        durations_lex_advance(x);
        if (x->c == 0xBB) durations_lex_advance(x);
        if (x->c == 0xBF) durations_lex_advance(x);
    }
    while (x->c != EOF && isspace(x->c)) durations_lex_advance(x);
}

/* What is said once the file is read: bad entries past the cap, and in
 * strict mode the failure that names them. */
static bool finish_read(reader_t *r, bool ok)
{
    const durations_file_opts_t *o = r->o;
    const char *path = r->lex.path;
    const warncap_t *w = &r->bad;
    if (w->more && o->strict)
        warncap_say(w, "%s '%s': %zu more bad entries (%zu shown)", o->label, path, w->more,
                    w->shown);
    else if (w->more)
        warncap_say(w, "%s '%s': %zu more entries ignored (%zu shown)", o->label, path, w->more,
                    w->shown);
    if (ok && o->strict && w->shown) {
        size_t bad = w->shown + w->more;
        return err_set(&r->lex.err, "%s '%s': %zu bad entr%s (named above); fix or remove %s",
                       o->label, path, bad, bad == 1 ? "y" : "ies", bad == 1 ? "it" : "them");
    }
    return ok;
}

bool durations_file_read(const char *path, const durations_file_opts_t *o,
                         durations_file_entries_t *out, char **err)
{
    reader_t r = {.lex = {.label = o->label, .path = path, .line = 1}, .o = o, .out = out};
    r.bad = (warncap_t){.fn = o->warn, .user = o->warn_user, .max = DURATIONS_FILE_MAX_WARNINGS};
    r.lex.f = fopen(path, "r");
    if (!r.lex.f)
        return err_set(err, "%s '%s': cannot read it (%s)", o->label, path, strerror(errno));
    skip_preamble(&r.lex);
    bool ok = r.lex.c == '{' ? read_json(&r) : read_lines(&r);
    if (ferror(r.lex.f))
        ok = err_set(&r.lex.err, "%s '%s': cannot read it (%s)", o->label, path, strerror(errno));
    fclose(r.lex.f);
    ok = finish_read(&r, ok);
    if (!ok) {
        *err = r.lex.err ? r.lex.err : xasprintf("%s '%s': cannot be read", o->label, path);
        r.lex.err = NULL;
    }
    durations_lex_free(&r.lex);
    buf_free(&r.key);
    return ok;
}

/* ---- pytest-split JSON out ---- */

/* The shortest %g text that reads back as the same double (Python's repr
 * does the same; 0.1 stays 0.1). Always a valid JSON number: the value is
 * finite. */
static void put_shortest_seconds(buf_t *b, double v)
{
    char text[32];
    for (int precision = 1; precision <= 17; precision++) {
        snprintf(text, sizeof text, "%.*g", precision, v);
        if (strtod(text, NULL) == v) break;
    }
    buf_puts(b, text);
}

bool durations_file_write_json(const durations_file_entries_t *e, FILE *out)
{
    buf_t line = BUF_INIT;
    bool ok = fputs(e->len ? "{\n" : "{", out) >= 0;
    for (size_t i = 0; i < e->len && ok; i++) {
        buf_reset(&line);
        buf_puts(&line, "    ");
        jsontext_put_string(&line, durations_file_key(e, i), false); /* keys byte for byte */
        buf_puts(&line, ": ");
        put_shortest_seconds(&line, e->items[i].seconds);
        buf_puts(&line, i + 1 < e->len ? ",\n" : "\n");
        ok = fwrite(line.data, 1, line.len, out) == line.len;
    }
    buf_free(&line);
    fputs("}\n", out);
    return fflush(out) == 0 && !ferror(out) && ok;
}

bool durations_file_writer_open(durations_file_writer_t *w, const char *path, char **err)
{
    memset(w, 0, sizeof *w);
    if (!fs_atomic_begin(&w->file, path))
        return err_set(err, "cannot write %s (%s)", path, strerror(errno));
    fputc('{', w->file.f);
    return true;
}

void durations_file_put_key(buf_t *b, const char *node_id)
{
    jsontext_put_string(b, node_id, true); /* read by Python tools: strict UTF-8 */
}

/* "%.6f" by hand: a double below 2^33 is m * 2^-shift exactly (m < 2^53,
 * shift >= 20), so seconds * 10^6 = m * 10^6 / 2^shift, a 73-bit product
 * shifted right, rounded to nearest with ties to even as glibc's printf
 * rounds the exact binary value. */
#if defined(__SIZEOF_INT128__)
static bool micros_exact(double seconds, uint64_t *out)
{
    uint64_t bits;
    memcpy(&bits, &seconds, sizeof bits);
    unsigned biased = (unsigned)(bits >> 52 & 0x7ff);
    if (bits >> 63 || biased >= 1023 + 33) return false; /* negative, -0, huge, inf, NaN */
    uint64_t m = bits & ((UINT64_C(1) << 52) - 1);
    int shift = 1074; /* subnormal: m * 2^-1074 */
    if (biased) {
        m |= UINT64_C(1) << 52;
        shift = 1075 - (int)biased;
    }
    if (m == 0 || shift >= 74) { /* m * 10^6 < 2^73: below half a microsecond, never a tie */
        *out = 0;
        return true;
    }
    unsigned __int128 p = (unsigned __int128)m * 1000000u;
    unsigned __int128 q = p >> shift;
    unsigned __int128 rest = p - (q << shift);
    unsigned __int128 half = (unsigned __int128)1 << (shift - 1);
    if (rest > half || (rest == half && (q & 1))) q++;
    *out = (uint64_t)q;
    return true;
}
#else
static bool micros_exact(double seconds, uint64_t *out)
{
    (void)seconds, (void)out;
    return false;
}
#endif

void durations_file_put_seconds(buf_t *b, double seconds)
{
    uint64_t us;
    if (!micros_exact(seconds, &us)) {
        buf_printf(b, "%.6f", seconds);
        return;
    }
    char text[32];
    char *p = text + sizeof text;
    uint64_t whole = us / 1000000u;
    uint32_t part = (uint32_t)(us % 1000000u);
    for (int i = 0; i < 6; i++, part /= 10) *--p = (char)('0' + part % 10);
    *--p = '.';
    do *--p = (char)('0' + whole % 10);
    while (whole /= 10);
    buf_append(b, p, (size_t)(text + sizeof text - p));
}

#define WRITER_CHUNK ((size_t)64 << 10)

static void writer_flush(durations_file_writer_t *w)
{
    buf_t *p = &w->pending;
    if (p->len && fwrite(p->data, 1, p->len, w->file.f) != p->len) w->write_error = true;
    buf_reset(p);
}

/* Starts an entry: its separator. */
static buf_t *writer_entry(durations_file_writer_t *w)
{
    buf_puts(&w->pending, w->written++ ? ",\n" : "\n");
    return &w->pending;
}

static void writer_entry_done(durations_file_writer_t *w, double seconds)
{
    buf_append(&w->pending, ": ", 2);
    durations_file_put_seconds(&w->pending, seconds);
    if (w->pending.len >= WRITER_CHUNK) writer_flush(w);
}

void durations_file_writer_put(durations_file_writer_t *w, const char *node_id, double seconds)
{
    durations_file_put_key(writer_entry(w), node_id);
    writer_entry_done(w, seconds);
}

void durations_file_writer_put_json(durations_file_writer_t *w, const char *key_json, size_t len,
                                    double seconds)
{
    buf_append(writer_entry(w), key_json, len);
    writer_entry_done(w, seconds);
}

bool durations_file_writer_close(durations_file_writer_t *w, char **err)
{
    writer_flush(w);
    fputs("\n}\n", w->file.f);
    char *path = xstrdup(w->file.path);
    /* A failed write set the stream's error flag: finish then keeps the old
     * file and removes the temporary one. */
    bool ok = fs_atomic_finish(&w->file) && !w->write_error;
    if (!ok) err_set(err, "cannot write %s (%s)", path, strerror(errno));
    free(path);
    buf_free(&w->pending);
    memset(w, 0, sizeof *w);
    return ok;
}

/* jsoncut: JSON values cut out of bytes, not built.
 *
 * results_json reads collector files that are one array of large records,
 * of which it uses a few fields. Building every record as a tree would cost
 * more than everything else together, so the records are only cut: this
 * module finds where a value ends (knowing strings, escapes and nesting,
 * nothing more) and walks an object's members as (key, raw value) byte
 * ranges. Values are not checked beyond what finding their end needs; the
 * caller decodes the few it uses (cJSON for anything escaped).
 *
 * A scan is resumable: fed the bytes seen so far, it either finds the value's
 * end or remembers where it stopped, so a value that spans many reads is
 * walked once, not once per read. Its offsets are relative to the value's
 * first byte, which stays valid when the reader moves its buffer. */
#ifndef TEP_JSONCUT_H
#define TEP_JSONCUT_H
#include <stdbool.h>
#include <stddef.h>

typedef struct {
    size_t at;    /* bytes of the value already walked */
    size_t depth; /* open '{' / '[' */
    bool in_string;
    bool escaped; /* the previous byte in the string was a lone '\' */
} jsoncut_scan_t;

typedef enum {
    JSONCUT_MORE, /* the bytes so far end inside the value */
    JSONCUT_DONE, /* st->at is the value's length (never 0) */
    JSONCUT_BAD   /* the first byte cannot start a value (a stray '}' or ':') */
} jsoncut_state_t;

/* Goes on scanning the value at v, of which avail bytes are there now. */
jsoncut_state_t jsoncut_scan(const char *v, size_t avail, jsoncut_scan_t *st);
/* After JSONCUT_MORE at the end of the input: a bare scalar (number, true,
 * ...) is complete there, as nothing follows it. */
bool jsoncut_scalar_ended(const jsoncut_scan_t *st);
/* End of the complete JSON value at p (which runs to `end`), or NULL. */
const char *jsoncut_value_end(const char *p, const char *end);
/* JSON's whitespace. */
bool jsoncut_is_space(char c);

/* Calls fn for each key (raw, without quotes, not decoded) and value (raw)
 * of the JSON object at p[0..len). false when it is not a well-formed object. */
typedef void (*jsoncut_member_fn)(const char *k, size_t klen, const char *v, size_t vlen,
                                  void *user);
bool jsoncut_each_member(const char *p, size_t len, jsoncut_member_fn fn, void *user);
/* The same, but false also when the commas between members are not JSON's
 * (missing, doubled, or after the last member), anything but spaces follows
 * the closing brace, or a value is not a string, a nested value (cut, not
 * checked inside), true, false, null or a number (jsoncut_is_number). */
bool jsoncut_each_member_strict(const char *p, size_t len, jsoncut_member_fn fn, void *user);

/* Whether v[0..len) is one JSON number, whole. */
bool jsoncut_is_number(const char *v, size_t len);

/* A member picked by name: its raw value, v NULL when there is none. */
typedef struct {
    const char *v;
    size_t len;
} jsoncut_value_t;
#define JSONCUT_PICK_MAX 16

/* Picks into out[i] the first member named names[i] (i < n; more than
 * JSONCUT_PICK_MAX names abort) of the object at p[0..len); keys are compared as written,
 * not decoded. The walk is jsoncut_each_member's, or the strict one's; false
 * when it refuses the object. */
bool jsoncut_pick(const char *p, size_t len, const char *const *names, size_t n,
                  jsoncut_value_t *out, bool strict);
/* Whether the value is the bare word ("true", "false", "null"); false when
 * it is absent. */
bool jsoncut_value_is(jsoncut_value_t v, const char *word);

#endif

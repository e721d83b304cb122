/* results_index: a result file's index, so that the report phase never parses it again.
 *
 * The run phase reads every result file whole (run_truth.h, and
 * results_merge.h for an attempt's parts); while it does, it writes beside it
 * (<result file>.index) what the report phase needs of each record, in file
 * order: its bytes in the file (a JUnit <testcase> element, a collector
 * record), whether the upload takes it (JSON: an object), and its durations
 * entry (report_durations.h): the node id as the artifact keys it, already a
 * JSON string, a hash of it, and the seconds. Report cuts upload batches from
 * the ranges (reading only those bytes) and writes the artifact from the
 * entries, with no XML or JSON parsed. results_index_entry_of_record is the
 * one place an entry is made, from the index's writer or from a parse of the
 * file when there is no usable index, so both give identical bytes.
 *
 * Tied to its file: the header holds the result file's size, mtime, inode
 * and device and a hash of its first and last 4 KiB, taken once the file was
 * read whole and compared with the same taken before (a file that changed
 * while it was read gets no index); a reader refuses an index whose file is
 * not that one any more (stale), or that was made with another node-id
 * prefix or format than the reader's (run.json's). Damage: the entries come
 * in blocks of at most 64 KiB (or one entry), each with a checksum that is
 * checked before any of its entries is handed out, and each entry is checked
 * against the one before (ranges in order, inside the file); the index ends
 * with a trailer counting its entries. A reader that finds damage says so
 * after the entries it already handed out; the caller reads the file for the
 * rest. Untrusted input: the index lives in the state folder, where anyone
 * who can write it can also forge its checksums (they find accidents, not
 * attacks); so every entry handed out is checked whatever its block's
 * checksum says: its range lies inside the result file (its size as it is
 * now), after the entry before, and its rendered key is a JSON string as
 * durations_file_put_key writes one (results_index_key_is_json), since the
 * artifact copies it. The upload then reads only those ranges and checks
 * each holds what a record starts and ends with. The index must be a
 * regular file (not followed through a link; a FIFO is refused, not waited
 * on). Memory: one block, whatever the file; nothing per record.
 *
 * Written atomically (fs.h), and only for a file read to its end: a file cut
 * short, salvaged from pytest's reports, or merged from parts that could not
 * all be copied has none, and report reads it as before.
 *
 * Format (version 1; integers little-endian, "varint" LEB128):
 *   header: "TEPRIDX1", u8 mode (1 JSON, 2 JUnit), 3 zero bytes, u32 prefix
 *           length, u64 size, u64 mtime seconds, u64 mtime nanoseconds, u64
 *           inode, u64 device, u64 head hash, u64 tail hash, u64 checksum of
 *           all of this and the prefix, the prefix's bytes
 *   block:  u32 payload bytes (> 0), u32 entries, payload, u64 checksum
 *   entry:  varint gap since the previous entry's end, varint length, u8 flags
 *           (1 upload, 2 timed, 4 raw key), and when timed: u32 key hash, u64
 *           seconds (IEEE 754 bits), varint key length, key bytes
 *   trailer: u32 0, u32 0, u64 entries, u64 checksum */
#ifndef TEP_RESULTS_INDEX_H
#define TEP_RESULTS_INDEX_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "base/buf.h"
#include "base/fs.h"
#include "pytest/result_mode.h"
#include "results/results_model.h"

/* The longest key an entry may have: node ids are at most two 64 KiB names
 * (results_*_MAX_ID) and a prefix, and a key's escapes may grow it 6-fold. */
#define RESULTS_INDEX_MAX_KEY ((size_t)1 << 20)

/* What the report phase needs of one record. */
typedef struct {
    size_t start, end; /* the record's bytes in its result file */
    bool upload;       /* the upload takes it (JUnit: every testcase; JSON: an object) */
    bool timed;        /* it has a durations entry: a usable test with a time */
    /* The entry's key: the node id as a JSON string literal (quotes included),
     * or, with key_raw, the node id itself (not valid UTF-8: the artifact's
     * writer makes it so, and two such ids must stay apart). Not terminated. */
    const char *key;
    size_t key_len;
    bool key_raw;
    uint32_t key_hash; /* results_index_hash of the node id */
    double seconds;
} results_index_entry_t;

/* The hash entries carry of their node id (report_durations finds retried
 * tests by it). */
uint32_t results_index_hash(const char *s, size_t len);
/* The node id the durations artifact keys a record by (nodeid.h), or NULL
 * when the record has no entry there (not a usable test, a collection error,
 * no time). Caller frees. */
char *results_index_durations_id(const test_record_t *rec, result_mode_t mode, const char *prefix);
/* The entry of a record as the parsers hand it out; prefix is its attempt's
 * node-id prefix (run.json's id_prefix). Its key lives in scratch (reused). */
void results_index_entry_of_record(const test_record_t *rec, result_mode_t mode, const char *prefix,
                                   buf_t *scratch, results_index_entry_t *e);
/* Whether key (len bytes, not terminated) is a JSON string literal as
 * durations_file_put_key writes one (quotes included, valid UTF-8, its own
 * escapes only): what the durations artifact may take as it is. The reader
 * refuses an entry whose rendered key is not. */
bool results_index_key_is_json(const char *key, size_t len);
/* The index file of a result file. Caller frees. */
char *results_index_path(const char *result_path);

/* ---- writing ---- */

/* Who the result file is: what the header ties the index to. */
typedef struct {
    uint64_t size, mtime_s, mtime_ns, ino, dev, head, tail;
} results_index_id_t;

/* Takes the identity of the file at path; false with errno set. */
bool results_index_identify(const char *path, results_index_id_t *id);

typedef struct {
    fs_atomic_t file;
    result_mode_t mode;
    char *prefix;
    char *result_path;
    buf_t block; /* the block being filled */
    uint32_t block_entries;
    uint64_t entries;
    size_t last_end;
    buf_t scratch; /* entry_of_record's key */
    bool failed;   /* an entry out of order: the index is abandoned */
} results_index_writer_t;

/* Starts the index of result_path (written beside it). false with *err when
 * it cannot be created. */
bool results_index_writer_open(results_index_writer_t *w, const char *result_path,
                               result_mode_t mode, const char *prefix, char **err);
/* Adds one record's entry (entry_of_record with the writer's mode and prefix). */
void results_index_writer_put_record(results_index_writer_t *w, const test_record_t *rec);
/* Adds an entry; entries come in file order, ranges not overlapping. */
void results_index_writer_put(results_index_writer_t *w, const results_index_entry_t *e);
/* Finishes the index: the result file's identity is taken now and, when
 * read_as is given, must be that one (the file did not change while it was
 * read). false with *err (and nothing left behind) otherwise. w is released
 * either way. */
bool results_index_writer_close(results_index_writer_t *w, const results_index_id_t *read_as,
                                char **err);
/* Drops the index being written; w is released. */
void results_index_writer_abandon(results_index_writer_t *w);

/* ---- reading ---- */

typedef struct results_index_reader results_index_reader_t;

typedef enum {
    RESULTS_INDEX_ENTRY, /* *e holds the next entry (valid until the next call) */
    RESULTS_INDEX_END,   /* every entry was handed out, and the trailer agrees */
    RESULTS_INDEX_DAMAGED
} results_index_next_t;

/* Opens the index of result_path, checked against the file as it is now and
 * against the mode and prefix the caller reads it with. NULL with *why (one
 * line: "no index", "stale: ...", "damaged: ...") when it cannot be used;
 * *missing tells the first case (expected: nothing to warn about) from the
 * others. */
results_index_reader_t *results_index_open(const char *result_path, result_mode_t mode,
                                           const char *prefix, bool *missing, char **why);
/* The next entry; DAMAGED with *why after the entries already handed out. */
results_index_next_t results_index_next(results_index_reader_t *r, results_index_entry_t *e,
                                        char **why);
/* For the fuzz target only (fuzz/fuzz_results_index.c): with false, blocks'
 * and the trailer's checksums are not compared, so that mutated entries get
 * past them to the checks that make an entry safe to use whatever its bytes
 * (ranges inside the file and in order, keys that are JSON strings). */
void results_index_set_checksums(bool checked);
/* Entries handed out so far. */
size_t results_index_count(const results_index_reader_t *r);
void results_index_close(results_index_reader_t *r);

#endif

/* cJSON trees in an arena: big answers, strings larger than a block, invalid
 * JSON, reuse after a release, and cJSON's own allocator back in place for
 * every other tree (under ASan a tree freed into the arena would leak). */
#include "unit.h"
#include "base/buf.h"
#include "base/json_arena.h"
#include "base/json_get.h"
#include <stdio.h>

static void reads_a_big_tree(void **state)
{
    (void)state;
    buf_t b = BUF_INIT;
    buf_puts(&b, "{\"tasks\":[");
    for (int i = 0; i < 50000; i++)
        buf_printf(&b, "%s{\"path\":\"t/test_%d.py\"}", i ? "," : "", i);
    buf_puts(&b, "]}");
    json_arena_t a = JSON_ARENA_INIT;
    cJSON *root = json_arena_parse(&a, b.data, b.len);
    assert_non_null(root);
    const cJSON *tasks = cJSON_GetObjectItemCaseSensitive(root, "tasks");
    assert_int_equal(cJSON_GetArraySize(tasks), 50000);
    assert_string_equal(json_get_str(cJSON_GetArrayItem(tasks, 49999), "path"), "t/test_49999.py");
    json_arena_free(&a);
    assert_null(a.blocks);
    buf_free(&b);
}

static void a_string_larger_than_a_block(void **state)
{
    (void)state;
    size_t n = 3u << 20;
    char *text = xmalloc(n + 3);
    text[0] = '"';
    memset(text + 1, 'x', n);
    text[n + 1] = '"';
    text[n + 2] = '\0';
    json_arena_t a = JSON_ARENA_INIT;
    cJSON *s = json_arena_parse(&a, text, n + 2);
    assert_true(cJSON_IsString(s));
    assert_int_equal(strlen(s->valuestring), n);
    json_arena_free(&a);
    free(text);
}

static void invalid_json_and_reuse(void **state)
{
    (void)state;
    json_arena_t a = JSON_ARENA_INIT;
    assert_null(json_arena_parse(&a, "{\"a\": [1, 2,", strlen("{\"a\": [1, 2,")));
    assert_null(json_arena_parse(&a, "", strlen("")));
    cJSON *ok = json_arena_parse(&a, "{\"a\": 7}", strlen("{\"a\": 7}"));
    assert_int_equal(json_get_long(ok, "a", 0, 100, -1), 7);
    json_arena_free(&a);
    ok = json_arena_parse(&a, "[true]", strlen("[true]"));
    assert_true(cJSON_IsTrue(cJSON_GetArrayItem(ok, 0)));
    json_arena_free(&a);
    json_arena_free(&a); /* an empty arena: nothing to do */
}

/* A value cut out of a larger text: the bytes after len are not read. */
static void a_part_of_a_larger_text(void **state)
{
    (void)state;
    const char *text = "{\"a\": [1, 2]}, \"not this\"";
    json_arena_t a = JSON_ARENA_INIT;
    cJSON *v = json_arena_parse(&a, text + 6, 6);
    assert_int_equal(cJSON_GetArraySize(v), 2);
    assert_null(json_arena_parse(&a, text + 6, 5)); /* "[1, 2" */
    json_arena_free(&a);
}

static void other_trees_use_malloc_again(void **state)
{
    (void)state;
    json_arena_t a = JSON_ARENA_INIT;
    assert_non_null(json_arena_parse(&a, "{\"a\": \"b\"}", strlen("{\"a\": \"b\"}")));
    cJSON *mine = cJSON_Parse("{\"c\": [\"d\", \"e\"]}");
    cJSON_AddStringToObject(mine, "f", "g");
    char *printed = cJSON_PrintUnformatted(mine);
    assert_string_equal(printed, "{\"c\":[\"d\",\"e\"],\"f\":\"g\"}");
    cJSON_free(printed);
    cJSON_Delete(mine); /* would crash or leak if it were the arena's */
    json_arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_a_big_tree),
        cmocka_unit_test(a_string_larger_than_a_block),
        cmocka_unit_test(invalid_json_and_reuse),
        cmocka_unit_test(a_part_of_a_larger_text),
        cmocka_unit_test(other_trees_use_malloc_again),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* jsontext: any bytes as a JSON string literal. Invariants: kept byte for
 * byte, the literal parses back (cJSON) to exactly the input (up to its
 * first NUL); made valid UTF-8, it parses too and holds no byte sequence
 * that is not UTF-8. */
#include "base/buf.h"
#include "fuzz_util.h"
#include "base/jsontext.h"
#include <cjson/cJSON.h>
#include <string.h>

static bool valid_utf8(const unsigned char *s)
{
    while (*s) {
        unsigned char c = *s;
        size_t n = c < 0x80                 ? 1
                   : c >= 0xC2 && c <= 0xDF ? 2
                   : c >= 0xE0 && c <= 0xEF ? 3
                   : c >= 0xF0 && c <= 0xF4 ? 4
                                            : 0;
        if (!n) return false;
        for (size_t i = 1; i < n; i++)
            if ((s[i] & 0xC0) != 0x80) return false;
        if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] > 0x9F) ||
            (c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] > 0x8F))
            return false;
        s += n;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    for (int strict = 0; strict < 2; strict++) {
        buf_t b = BUF_INIT;
        jsontext_put_string(&b, s, strict);
        cJSON *v = cJSON_ParseWithLength(b.data, b.len);
        FUZZ_CHECK(cJSON_IsString(v));
        if (!strict)
            FUZZ_CHECK(strcmp(v->valuestring, s) == 0);
        else
            FUZZ_CHECK(valid_utf8((const unsigned char *)v->valuestring));
        FUZZ_CHECK(memchr(b.data, '\n', b.len) == NULL); /* one line per entry in the files */
        cJSON_Delete(v);
        buf_free(&b);
    }
    free(s);
    return 0;
}

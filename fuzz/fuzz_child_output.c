/* What the tool reads from the programs it starts, other than pytest's
 * results: the Python probe's output (result_mode_probe_read), a test script's
 * first bytes (interp_from_shebang), the agent's OIDC token
 * (oidc_read_token) and the agent's stderr when a call fails
 * (agent_failure). The first byte picks the reader (for the probe: raw
 * output, or output that ends with a real answer line). Invariants: a probe
 * answer is read wherever it is among other lines, and a probe that did not
 * answer is said in one line of bounded size; an interpreter found is a
 * Python, each of its words non-empty; a token is non-empty, trimmed and holds
 * no control character (it goes into an HTTP header), else a one-line error;
 * an agent failure is one line of bounded size. */
#include "net/agent.h"
#include "base/buf.h"
#include "fuzz_util.h"
#include "pytest/interp.h"
#include "net/oidc.h"
#include "pytest/result_mode.h"
#include <stdio.h>
#include <string.h>

static void probe(const uint8_t *data, size_t size, bool with_answer)
{
    buf_t out = BUF_INIT;
    buf_init(&out);
    int want[3] = {0, 0, 0};
    if (with_answer && size >= 1) {
        for (int i = 0; i < 3; i++) want[i] = data[0] >> i & 1;
        char *noise = fuzz_cstr(data + 1, size - 1); /* what a sitecustomize prints first */
        if (!strstr(noise, "tep-probe")) buf_puts(&out, noise);
        free(noise);
        buf_printf(&out, "\ntep-probe pytest=%d collector=%d registered=%d\n", want[0], want[1],
                   want[2]);
    } else {
        buf_append(&out, data, size);
    }
    result_mode_probe_t p;
    memset(&p, 0, sizeof p);
    result_mode_probe_read(&out, &p);
    if (with_answer && size >= 1)
        FUZZ_CHECK(p.answered && p.pytest == want[0] && p.collector == want[1] &&
                   p.registered == want[2]);
    if (!p.answered) FUZZ_CHECK(fuzz_one_line(p.detail) && strlen(p.detail) <= 512);
    free(p.detail);
    buf_free(&out);
}

static void shebang(const uint8_t *data, size_t size)
{
    char *head = fuzz_cstr(data, size > 511 ? 511 : size); /* interp.c reads 511 bytes */
    strlist_t argv = STRLIST_INIT;
    if (interp_from_shebang(head, &argv)) {
        FUZZ_CHECK(argv.len >= 1);
        const char *b = strrchr(argv.items[0], '/');
        b = b ? b + 1 : argv.items[0];
        FUZZ_CHECK(strncmp(b, "python", 6) == 0 || strncmp(b, "pypy", 4) == 0);
        for (size_t i = 0; i < argv.len; i++) FUZZ_CHECK(*argv.items[i]);
    } else {
        FUZZ_CHECK(argv.len == 0);
    }
    strlist_free(&argv);
    free(head);
}

static void token(const uint8_t *data, size_t size)
{
    buf_t out = BUF_INIT;
    buf_append(&out, data, size);
    char *tok = NULL, *err = NULL;
    if (oidc_read_token(&out, &tok, &err)) {
        FUZZ_CHECK(err == NULL && tok && *tok);
        for (const unsigned char *c = (const unsigned char *)tok; *c; c++)
            FUZZ_CHECK(*c >= 0x20 && *c != 0x7f);
        FUZZ_CHECK(tok[0] != ' ' && tok[strlen(tok) - 1] != ' ');
    } else {
        FUZZ_CHECK(tok == NULL && fuzz_one_line(err));
    }
    free(tok);
    free(err);
    buf_free(&out);
}

static void agent_stderr(const uint8_t *data, size_t size)
{
    if (size < 2) return;
    const char *args[] = {"meta-data", "get", "test-engine-pytest-retry", NULL};
    process_result_t r = {.exit_code = data[0], .signal = data[1] % 3 == 0 ? 9 : 0};
    buf_t errors = BUF_INIT;
    buf_append(&errors, data + 2, size - 2);
    char *msg = agent_failure(args, &r, &errors);
    FUZZ_CHECK(fuzz_one_line(msg) && strlen(msg) <= 300 + 100);
    free(msg);
    buf_free(&errors);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    switch (data[0] % 5) {
    case 0: probe(data + 1, size - 1, false); break;
    case 1: probe(data + 1, size - 1, true); break;
    case 2: shebang(data + 1, size - 1); break;
    case 3: token(data + 1, size - 1); break;
    default: agent_stderr(data + 1, size - 1);
    }
    return 0;
}

/* /proc/<pid>/stat as proctree reads it to find every descendant
 * (proctree_stat_ppid). The first byte picks the input: raw bytes as the
 * file, or a stat line the kernel would write for a process whose name (up to
 * 15 bytes of anything but NUL: a process names itself, ")", " S 1" and
 * line breaks included) and parent come from the input. Invariant: the
 * parent read from a kernel-written line is the real one, whatever the name:
 * a process must not hide from the cancellation by its name. */
#include "fuzz_util.h"
#include "base/proctree.h"
#include <stdio.h>
#include <string.h>

/* The fields after the parent of a real line (a sleeping python3). */
#define STAT_TAIL                                                                                  \
    " 4242 4242 34817 4242 4194560 4135 0 0 0 10 3 0 0 20 0 1 0 1234567 26103808 2544 "            \
    "18446744073709551615 94250000000000 94250000200000 140730000000000 0 0 0 0 16781312 0 0 0 "   \
    "17 1 0 0 0 0 0 94250000300000 94250000310000 94250010000000 140730000001000 "                 \
    "140730000001100 140730000001100 140730000004000 0\n"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    pid_t ppid = -12345;
    if (data[0] % 2 == 0) { /* raw bytes */
        bool ok = proctree_stat_ppid(fuzz_file(data + 1, size - 1), &ppid);
        FUZZ_CHECK(ok || ppid == -12345); /* untouched on false */
        return 0;
    }
    if (size < 6) return 0;
    int parent =
        (int)((uint32_t)data[1] | (uint32_t)data[2] << 8 | (uint32_t)data[3] << 16) % 4194304;
    char state = "RSDZTtXIP"[data[4] % 9];
    char comm[16];
    size_t n = 0;
    for (size_t i = 5; i < size && n < 15; i++)
        if (data[i]) comm[n++] = (char)data[i];
    comm[n] = '\0';
    char line[1024];
    int len = snprintf(line, sizeof line, "%d (%s) %c %d" STAT_TAIL, 4243, comm, state, parent);
    bool ok = proctree_stat_ppid(fuzz_file((const uint8_t *)line, (size_t)len), &ppid);
    FUZZ_CHECK(ok && ppid == parent);
    return 0;
}

#!/usr/bin/env python3
"""Times two whole processes side by side: A (ours) and B (the baseline).

A and B run in turn, A B A B ..., after warm-up runs that are not counted;
each run's wall time is a monotonic clock around the child, its CPU (user +
system) and peak RSS the kernel's own accounting of the reaped child
(wait4's rusage, children included). The ratio A/B is taken pair by pair, so
a machine whose speed drifts during the call still gives a fair ratio; the
median of those ratios is the figure to quote.

Usage: pair.py [-n RUNS] [--warmup W] [--label NAME] [--check-cmd] -- A... --vs B...
  A and B are argv lists (no shell; use sh -c '...' for a pipe). Their output
  goes to /dev/null. A non-zero exit of either stops the benchmark (a failing
  run measures nothing). Prints one line per figure (min / median / max), the
  ratio A/B and the difference A - B pair by pair, and, with --limit R
  (--cpu-limit R), exits 1 when the median wall (CPU) ratio is above R.
Only the standard library: any python3 runs it.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time


def run_once(argv):
    start = time.monotonic()
    with open(os.devnull, "wb") as null:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=null, stderr=null)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"pair.py: {argv[0]} exited {proc.returncode}; run it by hand to see why")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024


def spread(values, fmt):
    return "min " + fmt(min(values)) + "  median " + fmt(statistics.median(values)) + "  max " + fmt(max(values))


def main():
    argv = sys.argv[1:]
    if "--" not in argv or "--vs" not in argv:
        sys.exit(__doc__)
    opts_end = argv.index("--")
    vs = argv.index("--vs")
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--label", default="A")
    ap.add_argument("--baseline", default="B")
    ap.add_argument("--limit", type=float, default=None)
    ap.add_argument("--cpu-limit", type=float, default=None)
    opts = ap.parse_args(argv[:opts_end])
    a, b = argv[opts_end + 1:vs], argv[vs + 1:]
    for _ in range(opts.warmup):
        run_once(a)
        run_once(b)
    rows = {"A": [], "B": []}
    for _ in range(opts.n):
        rows["A"].append(run_once(a))
        rows["B"].append(run_once(b))
    secs = lambda v: f"{v:7.3f}s"
    mib = lambda v: f"{v / 1048576:6.1f}MiB"
    for key, name in (("A", opts.label), ("B", opts.baseline)):
        walls, cpus, rss = zip(*rows[key])
        print(f"{name:>24} wall {spread(walls, secs)} | cpu {spread(cpus, secs)} | peak {spread(rss, mib)}")
    wall_ratios = [x[0] / y[0] for x, y in zip(rows["A"], rows["B"])]
    cpu_ratios = [x[1] / y[1] if y[1] > 0 else float("inf") for x, y in zip(rows["A"], rows["B"])]
    ratio = lambda v: f"{v:6.2f}x"
    print(f"{'ratio (pair by pair)':>24} wall {spread(wall_ratios, ratio)} | cpu {spread(cpu_ratios, ratio)}")
    ms = lambda v: f"{v * 1000:7.1f}ms"
    wall_diff = [x[0] - y[0] for x, y in zip(rows["A"], rows["B"])]
    cpu_diff = [x[1] - y[1] for x, y in zip(rows["A"], rows["B"])]
    print(f"{'A - B (pair by pair)':>24} wall {spread(wall_diff, ms)} | cpu {spread(cpu_diff, ms)}")
    failed = False
    for what, values, limit in (("wall", wall_ratios, opts.limit), ("cpu", cpu_ratios, opts.cpu_limit)):
        if limit is None:
            continue
        med = statistics.median(values)
        ok = med <= limit
        failed |= not ok
        print(f"{'target':>24} median {what} ratio {med:.2f} <= {limit:.2f}: {'ok' if ok else 'MISSED'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Writes N collector records to a file, one at a time (never the whole list in
memory, so a million records cost Python nothing), the way bench/parse.sh made
them: the real conformance records (pytest 7.2.1 + collector 1.8.0) cycled,
each with a new id and a unique name.

usage: gen_records.py CONFORMANCE_DIR OUT N [all|passing]
  all      every conformance record (35 passed, 14 failed, 6 skipped,
           6 collection errors in each 61): failures are a third of the file
  passing  only the passing records: a healthy suite
"""
import glob
import json
import sys
import uuid


def main():
    conf, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    mix = sys.argv[4] if len(sys.argv) > 4 else "all"
    seed = [r for f in sorted(glob.glob(conf + "/*.json")) for r in json.load(open(f))]
    if mix == "passing":
        seed = [r for r in seed if r.get("result") == "passed"]
    with open(out, "w") as f:
        f.write("[")
        for i in range(n):
            r = dict(seed[i % len(seed)])
            r["id"] = str(uuid.uuid4())
            r["name"] = "%s_%d" % (r["name"], i)
            if i:
                f.write(", ")
            f.write(json.dumps(r))
        f.write("]")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A local stand-in for Buildkite Test Engine, for tests and the demo.

Serves over HTTPS on 127.0.0.1 only:
  GET/POST /v2/analytics/organizations/<org>/suites/<suite>/test_plan
  POST     .../test_plan/filter_tests
  POST     .../test_plan_metadata
  POST     /v1/uploads                  (multipart/form-data)
  GET      /files/<path>                the file <path> under --dir/files (release archives
                                        for the hooks' download; faults endpoint "files")

Control is through files in --dir, so tests need no client library:
  port           written once the server listens
  requests.jsonl one JSON line per request (method, path, query, headers, body, client port)
  fillers.jsonl  one JSON line per body_bytes answer: path, size, bytes sent before the
                 client hung up (sent), client_hung_up
  faults.json    {"<endpoint>": [fault, ...]} consumed in order; endpoint is one of
                 plan_get, plan_post, filter_tests, metadata, upload, files.
                 fault keys: status, body (str or JSON), headers, delay (s), reset (bool),
                 truncate (bytes actually sent), repeat (n, default 1), forever (bool),
                 read_rate (bytes/s: the request body is read that slowly; a slow network),
                 body_bytes (n: the answer is n bytes of filler, streamed, never held in memory),
                 no_length (bool: with body_bytes, no Content-Length; the body ends when the
                 connection closes),
                 gzip_trickle (bytes/s: the answer is a gzip body of empty deflate blocks sent
                 that slowly, without end; it never grows the decoded body, so only a
                 wall-clock limit ends it; trickles.jsonl records how long it was held),
                 max_records (n: an upload whose data holds more records is answered 413),
                 skip_names (substring: an upload answers 202 with those records counted as
                 "skipped", one "errors" entry each, as Test Engine's answer allows)
  config.json    {"muted_tests": [...], "skipped_tests": [...], "filter_tests": [paths],
                  "plans": {identifier: plan}, "durations": {path or selector: ms},
                  "samples": {path or selector: timing_sample_size (default 10 for a known one)},
                  "always_new": bool}   (always_new: no plan is ever cached: every
                 GET answers 404 and every POST makes a new plan, for benchmarks
                 that repeat the same job)
                 A new plan gives each entry Test Engine's estimated_duration and
                 timing_sample_size (0 and the default duration when it has no history),
                 timing_metadata per format (median_duration, default_duration) and
                 known_timings_ratio, as the real answer carries them.

A plan request with max_parallelism (bktec plan's dynamic parallelism) gets
the parallelism the docs describe: as many target_time buckets as the
estimated durations fill, at least 1, at most max_parallelism (max alone: max).
Environment: TE_SERVER_RCVBUF (bytes) sets the connections' receive buffer (see main).
Uses only the standard library, so any python3 can run it.
"""
import argparse
import email.parser
import email.policy
import json
import math
import os
import socket
import ssl
import struct
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATE = {"plans": {}, "fault_text": None, "faults": {}}


def load_json(path, default):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def next_fault(directory, endpoint):
    """Pops the next fault for an endpoint; the queue restarts when the file's
    content changes (content, not mtime: mtimes are too coarse for quick rewrites)."""
    try:
        with open(os.path.join(directory, "faults.json"), encoding="utf-8") as f:
            text = f.read()
    except OSError:
        text = ""
    with LOCK:
        if text != STATE["fault_text"]:
            STATE["fault_text"] = text
            try:
                STATE["faults"] = json.loads(text) if text else {}
            except ValueError:
                STATE["faults"] = {}
        queue = STATE["faults"].get(endpoint, [])
        while queue:
            fault = queue[0]
            if fault.get("forever"):
                return fault
            remaining = fault.get("repeat", 1)
            if remaining <= 0:
                queue.pop(0)
                continue
            fault["repeat"] = remaining - 1
            return fault
    return None


def endpoint_of(method, path):
    if path.startswith("/files/"):
        return "files"
    if path.startswith("/v1/uploads"):
        return "upload"
    if path.endswith("/test_plan/filter_tests"):
        return "filter_tests"
    if path.endswith("/test_plan_metadata"):
        return "metadata"
    if path.endswith("/test_plan"):
        return "plan_get" if method == "GET" else "plan_post"
    return "unknown"


def parse_multipart(content_type, body):
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    fields, data = {}, None
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        if name == "data":
            data = {"filename": part.get_filename(), "content_type": part.get_content_type(),
                    "bytes": len(payload), "text": payload.decode("utf-8", "replace")}
        else:
            fields[name] = payload.decode("utf-8")
    return fields, data


def make_plan(directory, request):
    """Splits the request's selectors and examples over the jobs.

    Deliberately not the client's fallback order (that is byte-sorted
    round-robin): entries are reverse-sorted, so a test can tell the two apart.
    """
    config = load_json(os.path.join(directory, "config.json"), {})
    known = config.get("durations", {})
    samples = config.get("samples", {})
    tests = request.get("tests", {})

    def timed(entry, key, default):
        # Test Engine's answer: the estimate, and how many timings it rests on (0: its default)
        return dict(entry, estimated_duration=known.get(key, default),
                    timing_sample_size=samples.get(key, 10) if key in known else 0)
    entries = [timed({"path": s["value"], "format": "selector", "value": s["value"]}, s["value"], 1000)
               for s in tests.get("selectors", [])]
    entries += [timed(e, e["path"], 500) for e in tests.get("examples", [])]
    entries.sort(key=lambda e: e.get("value") or e["path"], reverse=True)
    parallelism = dynamic_parallelism(request, entries) or max(1, int(request.get("parallelism", 1)))
    tasks = {str(i): {"node_number": i, "tests": []} for i in range(parallelism)}
    for i, entry in enumerate(entries):
        tasks[str(i % parallelism)]["tests"].append(entry)
    return {"identifier": request.get("identifier", ""), "parallelism": parallelism, "tasks": tasks,
            "muted_tests": config.get("muted_tests", []), "skipped_tests": config.get("skipped_tests", []),
            "timing_metadata": {fmt: {"median_duration": median([e["estimated_duration"] for e in entries
                                                                  if e.get("format") == fmt
                                                                  and e["timing_sample_size"]]),
                                      "default_duration": default}
                                for fmt, default in (("selector", 1000.0), ("example", 500.0))},
            "known_timings_ratio": (sum(1 for e in entries if e["timing_sample_size"]) / len(entries)
                                    if entries else 0.0)}


def median(values):
    """Test Engine's median_duration of a format: null when it knows none."""
    if not values:
        return None
    values = sorted(values)
    mid = len(values) // 2
    return float(values[mid]) if len(values) % 2 else (values[mid - 1] + values[mid]) / 2.0


def dynamic_parallelism(request, entries):
    """Jobs for a max_parallelism request, or None for a static one."""
    maximum = int(request.get("max_parallelism") or 0)
    if maximum <= 0:
        return None
    target = float(request.get("target_time") or 0)
    if target <= 0:
        return maximum
    total_s = sum(e["estimated_duration"] for e in entries) / 1000.0
    return max(1, min(maximum, math.ceil(total_s / target)))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "te-standin/1"

    def log_message(self, fmt, *args):  # keep test output quiet
        pass

    def _record(self, body_desc):
        parsed = urllib.parse.urlsplit(self.path)
        entry = {"time": time.time(), "method": self.command, "path": parsed.path,
                 "query": dict(urllib.parse.parse_qsl(parsed.query)),
                 "headers": {k: v for k, v in self.headers.items()},
                 "client_port": self.client_address[1], "body": body_desc}
        with LOCK, open(os.path.join(self.server.directory, "requests.jsonl"), "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")

    def _send(self, status, body, headers=None, truncate=None):
        data = body if isinstance(body, bytes) else (
            body.encode() if isinstance(body, str) else json.dumps(body).encode())
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        self.end_headers()
        if truncate is not None:
            self.wfile.write(data[:truncate])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(data)

    def _reset(self):
        self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.request.close()

    def _read_body(self, rate=None):
        length = int(self.headers.get("Content-Length") or 0)
        if not length:
            return b""
        if not rate:
            return self.rfile.read(length)
        # A slow network: small reads, paced so the client sees steady progress
        # (kernel buffers still absorb the first few hundred KiB at once).
        parts, got, start, step = [], 0, time.monotonic(), max(1, int(rate) // 20)
        while got < length:
            chunk = self.rfile.read(min(step, length - got))
            if not chunk:
                break
            parts.append(chunk)
            got += len(chunk)
            ahead = got / rate - (time.monotonic() - start)
            if ahead > 0:
                time.sleep(ahead)
        return b"".join(parts)

    def _send_file(self, name):
        """A static file from --dir/files; never outside it."""
        base = os.path.realpath(os.path.join(self.server.directory, "files"))
        path = os.path.realpath(os.path.join(base, name))
        if not path.startswith(base + os.sep) or not os.path.isfile(path):
            return self._send(404, {"message": "no such file"})
        with open(path, "rb") as f:
            data = f.read()
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _send_filler(self, status, size, with_length):
        """A huge answer without holding it: tests that the client bounds what it reads."""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if with_length:
            self.send_header("Content-Length", str(size))
        else:
            self.close_connection = True
        self.end_headers()
        chunk = b" " * 65536
        sent, hung_up = 0, False
        try:
            while sent < size:
                n = min(len(chunk), size - sent)
                self.wfile.write(chunk[:n])
                sent += n
            self.wfile.flush()
        except OSError:  # the client hung up: what a bounded client should do
            hung_up, self.close_connection = True, True
        with LOCK, open(os.path.join(self.server.directory, "fillers.jsonl"), "a", encoding="utf-8") as f:
            f.write(json.dumps({"path": urllib.parse.urlsplit(self.path).path, "size": size, "sent": sent,
                                "client_hung_up": hung_up}) + "\n")

    def _gzip_trickle(self, status, rate):
        """202 and then an endless gzip body of empty deflate blocks at `rate` bytes/s:
        the client's decoder never gets a byte, so no progress rule on decoded data
        notices. Ends when the client hangs up (or after 10 minutes)."""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        start, sent, hung_up = time.monotonic(), 0, False
        empty_block = b"\x00\x00\x00\xff\xff"  # a stored block of length 0, not final
        try:
            self.wfile.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff")  # the gzip header
            self.wfile.flush()
            while time.monotonic() - start < 600:
                self.wfile.write(empty_block)
                self.wfile.flush()
                sent += len(empty_block)
                time.sleep(len(empty_block) / float(rate))
        except OSError:
            hung_up = True
        with LOCK, open(os.path.join(self.server.directory, "trickles.jsonl"), "a", encoding="utf-8") as f:
            f.write(json.dumps({"seconds": round(time.monotonic() - start, 3), "sent": sent,
                                "client_hung_up": hung_up}) + "\n")

    def _upload_records(self, desc):
        """The records of an upload's JSON data, or None (JUnit, unreadable)."""
        if (desc or {}).get("fields", {}).get("format") != "json":
            return None
        try:
            return json.loads(((desc or {}).get("data") or {}).get("text", "[]"))
        except ValueError:
            return None

    def _upload_count(self, desc, records):
        """Results in an upload: JSON records, or JUnit testcases (-1: not an upload)."""
        if records is not None:
            return len(records)
        data = ((desc or {}).get("data") or {}).get("text")
        return data.count("<testcase") if data is not None else -1

    def _handle(self):
        path = urllib.parse.urlsplit(self.path).path
        endpoint = endpoint_of(self.command, path)
        # The fault is chosen before the body is read, so read_rate can slow the read;
        # the request is still recorded before the fault acts.
        fault = next_fault(self.server.directory, endpoint)
        raw = self._read_body((fault or {}).get("read_rate"))
        ctype = self.headers.get("Content-Type", "")
        if ctype.startswith("multipart/form-data"):
            fields, data = parse_multipart(ctype, raw)
            desc = {"fields": fields, "data": data}
        else:
            try:
                desc = json.loads(raw) if raw else None
            except ValueError:
                desc = {"unparsed": raw.decode("utf-8", "replace")}
        self._record(desc)
        if fault:
            if fault.get("delay"):
                time.sleep(fault["delay"])
            if fault.get("reset"):
                return self._reset()
            if fault.get("gzip_trickle"):
                return self._gzip_trickle(fault.get("status", 202), fault["gzip_trickle"])
            records = self._upload_records(desc)
            if fault.get("max_records") is not None and self._upload_count(desc, records) > fault["max_records"]:
                return self._send(413, {"message": "Request Entity Too Large"})
            if fault.get("skip_names") and records is not None:
                skipped = [r for r in records if fault["skip_names"] in str(r.get("name", ""))]
                return self._send(202, {"id": str(uuid.uuid4()), "run_id": str(uuid.uuid4()),
                                        "queued": len(records) - len(skipped), "skipped": len(skipped),
                                        "errors": ["%s: name is too long" % r.get("name") for r in skipped],
                                        "run_url": "https://buildkite.localhost/test-engine/runs/1"})
            if fault.get("body_bytes"):
                return self._send_filler(fault.get("status", 200), int(fault["body_bytes"]),
                                         not fault.get("no_length"))
            if "status" in fault or "body" in fault:
                return self._send(fault.get("status", 200), fault.get("body", {"message": "injected fault"}),
                                  fault.get("headers"), fault.get("truncate"))
        return self._answer(endpoint, desc)

    def _answer(self, endpoint, desc):
        directory = self.server.directory
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
        if endpoint == "plan_get":
            config = load_json(os.path.join(directory, "config.json"), {})
            ident = query.get("identifier", "")
            if config.get("always_new"):
                return self._send(404, {"message": "Test plan not found"})
            with LOCK:
                plan = STATE["plans"].get(ident) or config.get("plans", {}).get(ident)
            if plan is None:
                return self._send(404, {"message": "Test plan not found"})
            return self._send(200, plan)
        if endpoint == "plan_post":
            ident = (desc or {}).get("identifier", "")
            if load_json(os.path.join(directory, "config.json"), {}).get("always_new"):
                return self._send(200, make_plan(directory, desc or {}))
            with LOCK:
                plan = STATE["plans"].get(ident)
                if plan is None:  # first job creates it; the others get the same plan
                    plan = STATE["plans"][ident] = make_plan(directory, desc or {})
            return self._send(200, plan)
        if endpoint == "filter_tests":
            config = load_json(os.path.join(directory, "config.json"), {})
            return self._send(200, {"tests": [{"path": p, "reason": "slow"} for p in config.get("filter_tests", [])]})
        if endpoint == "metadata":
            return self._send(200, {})
        if endpoint == "files":
            return self._send_file(urllib.parse.urlsplit(self.path).path[len("/files/"):])
        if endpoint == "upload":
            data = (desc or {}).get("data") or {}
            count = 0
            if (desc or {}).get("fields", {}).get("format") == "json":
                try:
                    count = len(json.loads(data.get("text", "[]")))
                except ValueError:
                    return self._send(422, {"message": "data is not valid JSON"})
            return self._send(202, {"id": str(uuid.uuid4()), "run_id": str(uuid.uuid4()), "queued": count,
                                    "skipped": 0, "errors": [],
                                    "run_url": "https://buildkite.localhost/test-engine/runs/1"})
        return self._send(404, {"message": "no such endpoint"})

    def do_GET(self):
        self._handle()

    def do_POST(self):
        self._handle()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    args = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler, bind_and_activate=False)
    # A real link's window, not loopback's megabytes: with it, a slow reader
    # (read_rate) shows as slow progress to the client, as a slow network does,
    # instead of the whole body vanishing into kernel buffers at once.
    # TE_SERVER_RCVBUF: a smaller receive buffer (4096: a slow link's), so a slow reader
    # (read_rate) shows as steady progress, one 16 KiB TLS record at a time; with 128 KiB
    # the first ~250 KB sit in the kernel and the client sees one long stall instead.
    rcvbuf = int(os.environ.get("TE_SERVER_RCVBUF") or 128 * 1024)
    server.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    server.server_bind()
    server.server_activate()
    server.daemon_threads = True
    server.directory = args.dir
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    port = server.server_address[1]
    tmp = os.path.join(args.dir, "port.tmp")
    with open(tmp, "w") as f:
        f.write(str(port))
    os.rename(tmp, os.path.join(args.dir, "port"))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A stand-in for buildkite-test-collector's pytest plugin (the --json part).

The real collector cannot be installed here (no PyPI), so tests load this
with `-p tep_collector`. It writes the same file: a bare JSON array, one line,
ASCII only, keys in the collector's order, times relative to the run's start
on a monotonic clock, 0-based locations, execution_tag markers as tags, and
collection errors as records tagged test.pytest_collection_error = "true",
and --tag-filters key:value keeps only the tests whose execution_tag markers
hold that value (the rest are deselected), with or without --json, like the
real plugin. It never uploads anything. test_collector_conformance.py holds it against
real collector 1.8.0 output in fixtures/conformance.
"""
import json
import os
import time
import uuid

import pytest

COLLECTION_ERROR_TAG = "test.pytest_collection_error"


def pytest_addoption(parser):
    group = parser.getgroup("buildkite-test-collector (stand-in)")
    group.addoption("--json", action="store", dest="jsonpath", default=None,
                    help="write test results as buildkite-test-collector JSON to this path")
    group.addoption("--merge-json", action="store_true", dest="mergejson", default=False,
                    help="append to an existing --json file")
    group.addoption("--tag-filters", action="store", dest="tag_filters", default=None,
                    help="keep only tests whose execution_tag markers hold key:value")


def marker_tags(item):
    """The item's execution tags as the collector's filter sees them: markers
    closest first (function, class, module), so for a repeated key the
    outermost marker's value is the one that stays; markers without exactly
    two arguments are ignored."""
    tags = {}
    for marker in item.iter_markers("execution_tag"):
        if len(marker.args) == 2:
            tags[marker.args[0]] = marker.args[1]
    return tags


def pytest_collection_modifyitems(config, items):
    """--tag-filters: split on the first ':' (a value may hold more); a filter
    without ':' has an empty value and so matches no real tag."""
    tag_filter = config.getoption("tag_filters")
    if not tag_filter:
        return
    key, _, value = tag_filter.partition(":")
    kept = [item for item in items if marker_tags(item).get(key) == value]
    dropped = [item for item in items if marker_tags(item).get(key) != value]
    config.hook.pytest_deselected(items=dropped)
    items[:] = kept


def pytest_configure(config):
    config.addinivalue_line("markers", "execution_tag(key, value): a Test Engine execution tag")
    is_xdist_worker = hasattr(config, "workerinput")
    if config.getoption("jsonpath") and not is_xdist_worker:
        config.pluginmanager.register(Collector(config), "tep_collector_instance")


def split_nodeid(nodeid):
    parts = nodeid.split("::")
    return "::".join(parts[:-1]), parts[-1]


def failure_fields(longrepr):
    """failure_reason and failure_expanded, by the collector's rules."""
    if longrepr is None:
        return None, None
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None:
        expanded = str(longrepr).strip().split("\n")
        backtrace = []
        for entry in getattr(getattr(longrepr, "reprtraceback", None), "reprentries", []) or []:
            loc = getattr(entry, "reprfileloc", None)
            if loc is not None:
                backtrace.append(f"{loc.path}:{loc.lineno}: {loc.message}")
        return crash.message, [{"expanded": expanded, "backtrace": backtrace}]
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        path, line, msg = longrepr
        return msg, [{"expanded": [], "backtrace": [f"{path}:{line}"]}]
    lines = str(longrepr).split("\n")
    if len(lines) > 1:
        return lines[0], [{"expanded": lines[1:]}]
    return lines[0], None


class Collector:
    """Mirrors the real plugin's bookkeeping, quirks included: a record
    starts at logstart (one per try under pytest-rerunfailures), takes its
    result from the call report (or a failed/skipped setup, or a failed
    teardown), and is final at the teardown's makereport, which pytest calls
    before the teardown's logreport: so a teardown error is recorded as
    passed, and under rerunfailures (which makes every report of a try
    before logging any) no record gets a result at all. Under xdist the
    controller sees no makereport and finalizes at logfinish instead."""

    def __init__(self, config):
        self.config = config
        # config.rootpath is pytest >= 6.1; Debian 11 has 6.0 (rootdir, a py.path)
        self.rootdir = str(getattr(config, "rootpath", None) or config.rootdir)
        self.started = None
        self.in_flight = {}
        self.finished = []
        self.tags = {}
        self.collection_errors = set()

    def _now(self):
        if self.started is None:
            self.started = time.monotonic()
        return round(time.monotonic() - self.started, 6)

    def _file_name(self, path):
        return os.path.relpath(os.path.join(self.rootdir, path), os.getcwd())

    def _finish(self, nodeid):
        rec = self.in_flight.pop(nodeid, None)
        if rec is None:
            return
        history = rec["history"]
        history["end_at"] = self._now()
        history["duration"] = round(history["end_at"] - history["start_at"], 6)
        tags = self.tags.get(nodeid)
        if tags:
            rec["_tags"] = tags
        self.finished.append(rec)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items):
        for item in items:
            tags = {}
            for marker in item.iter_markers("execution_tag"):
                key, value = marker.args
                if not isinstance(key, str) or not isinstance(value, str):
                    raise TypeError("execution_tag key and value must be strings")
                tags[key] = value
            if tags:
                self.tags[item.nodeid] = tags

    def pytest_collectreport(self, report):
        if not report.failed or not report.nodeid or report.nodeid in self.collection_errors:
            return
        self.collection_errors.add(report.nodeid)
        start = self._now()
        scope, name = split_nodeid(report.nodeid)
        file_name = self._file_name(report.nodeid.split("::")[0])
        reason, expanded = failure_fields(report.longrepr)
        rec = {"id": str(uuid.uuid4()), "scope": scope, "name": name, "location": file_name,
               "file_name": file_name, "history": {"section": "top", "children": [], "start_at": start},
               "tags": {COLLECTION_ERROR_TAG: "true"}, "result": "failed", "failure_reason": reason}
        if expanded is not None:
            rec["failure_expanded"] = expanded
        self.in_flight[report.nodeid] = rec
        self._finish(report.nodeid)

    def pytest_runtest_logstart(self, nodeid, location):
        start = self._now()
        scope, name = split_nodeid(nodeid)
        file_name = self._file_name(location[0])
        self.in_flight[nodeid] = {"id": str(uuid.uuid4()), "scope": scope, "name": name,
                                  "location": f"{file_name}:{location[1]}", "file_name": file_name,
                                  "history": {"section": "top", "children": [], "start_at": start}}

    def pytest_runtest_logreport(self, report):
        rec = self.in_flight.get(report.nodeid)
        if rec is None:
            return  # already final (the teardown's makereport came first)
        capture = (report.when == "call" or (report.when == "setup" and not report.passed)
                   or (report.when == "teardown" and report.failed))
        if not capture:
            return
        if report.passed:
            rec["result"] = "passed"
        elif report.failed:
            self._fail(rec, report.longrepr)
        elif report.skipped:
            rec["result"] = "skipped"  # includes xfail

    def pytest_runtest_makereport(self, item, call):
        if call.when == "teardown":
            self._finish(item.nodeid)

    def pytest_runtest_logfinish(self, nodeid, location):
        self._finish(nodeid)  # xdist's controller: no makereport there

    @staticmethod
    def _fail(rec, longrepr):
        rec["result"] = "failed"
        reason, expanded = failure_fields(longrepr)
        rec["failure_reason"] = reason
        if expanded is not None:
            rec["failure_expanded"] = expanded

    def _serialise(self, rec):
        out = {k: rec[k] for k in ("id", "scope", "name", "location", "file_name")}
        h = rec["history"]
        out["history"] = {"section": "top", "children": [], "start_at": h["start_at"],
                          "end_at": h.get("end_at", h["start_at"]), "duration": h.get("duration", 0.0)}
        tags = rec.get("tags") or rec.get("_tags")
        if tags:
            out["tags"] = tags
        for key in ("result", "failure_reason", "failure_expanded"):
            if key in rec and rec[key] is not None:
                out[key] = rec[key]
        return out

    def pytest_unconfigure(self, config):
        path = config.getoption("jsonpath")
        data = [self._serialise(rec) for rec in self.finished]
        if config.getoption("mergejson") and os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                data = json.load(f) + data
        with open(path, "w", encoding="ascii") as f:
            json.dump(data, f)

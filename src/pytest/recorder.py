"""Written by test-engine-pytest for one pytest run: records pytest's own
test reports as they happen, one JSON line each, flushed at once, so that a
pytest killed halfway still leaves every test that finished."""
import json
import os

import pytest

_KEEP = 4000  # the last characters of a failure text kept (its cause is at the end)
_MODULE = "_tep_recorder"


def _hide_from_children():
    """Takes what loaded us out of this process's environment: a test that
    runs pytest in a subprocess (pytester, a plugin's own test suite) must not
    record into our file, and xdist's workers do not need us (the controller
    records). Returns where to write."""
    path = os.environ.pop("TEP_RECORD_OUT", None)
    plugins = [p for p in os.environ.get("PYTEST_PLUGINS", "").split(",") if p.strip() != _MODULE]
    if any(p.strip() for p in plugins):
        os.environ["PYTEST_PLUGINS"] = ",".join(plugins)
    else:
        os.environ.pop("PYTEST_PLUGINS", None)
    here = os.path.dirname(os.path.abspath(__file__))
    entries = [e for e in os.environ.get("PYTHONPATH", "").split(os.pathsep) if e and e != here]
    if entries:
        os.environ["PYTHONPATH"] = os.pathsep.join(entries)
    else:
        os.environ.pop("PYTHONPATH", None)
    return path


_PATH = _hide_from_children()
_out = None  # the events file once opened; False when it cannot be written
_active = False  # set by pytest_configure: an xdist worker stays silent, the controller records
_tests = {}  # node id -> what its current try has reported so far


def _write(**record):
    global _out
    if not _active or _out is False:
        return
    try:
        if _out is None:
            _out = open(_PATH, "a", encoding="ascii", buffering=1)
        _out.write(json.dumps(record, separators=(",", ":")) + "\n")
    except (OSError, TypeError, ValueError):
        _out = False  # never break the user's run: the run phase notices the gap


def _text(report):
    try:
        text = report.longreprtext
    except Exception:  # a plugin's own longrepr type
        text = str(report.longrepr)
    return text[-_KEEP:] if text else ""


def _skip_reason(report):
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return _text(report)


def pytest_configure(config):
    global _active
    _active = not hasattr(config, "workerinput")


def pytest_sessionstart(session):
    config = session.config
    rootdir = getattr(config, "rootpath", None) or config.rootdir
    _write(e="session", rootdir=str(rootdir), invocation_dir=str(config.invocation_params.dir),
           pytest=__import__("pytest").__version__)


def pytest_runtest_logstart(nodeid, location):
    _write(e="start", id=nodeid)


def _finish(nodeid, state):
    _write(e="test", id=nodeid, outcome=state.get("outcome", "passed"),
           when=state.get("when", ""), msg=state.get("msg", ""),
           dur=round(state.get("dur", 0.0), 6), tries=state.get("tries", 1),
           xfail=state.get("xfail", False))


def pytest_runtest_logreport(report):
    if not _active:
        return
    state = _tests.setdefault(report.nodeid, {"tries": 1})
    state["dur"] = state.get("dur", 0.0) + (getattr(report, "duration", 0.0) or 0.0)
    if report.outcome == "rerun":  # pytest-rerunfailures: this try failed, another follows
        state["rerun"] = True
    elif report.failed and state.get("outcome") != "failed":
        state.update(outcome="failed", when=report.when, msg=_text(report))
    elif report.skipped and report.when != "teardown" and "outcome" not in state:
        xfail = hasattr(report, "wasxfail")
        state.update(outcome="skipped", when=report.when, xfail=xfail,
                     msg=str(report.wasxfail) if xfail else _skip_reason(report))
    if report.when == "???":  # xdist: the worker died running it; no logfinish follows
        _finish(report.nodeid, _tests.pop(report.nodeid))


def pytest_runtest_logfinish(nodeid, location):
    state = _tests.get(nodeid)
    if state is None:
        return
    if state.pop("rerun", False):  # a new try starts: only its outcome counts
        _tests[nodeid] = {"tries": state["tries"] + 1, "dur": state.get("dur", 0.0)}
        return
    _finish(nodeid, _tests.pop(nodeid))


def pytest_collectreport(report):
    if report.failed:
        _write(e="collect_error", id=report.nodeid or ".", msg=_text(report))


# First among the session's finishers: one that fails after us (pytest's JUnit
# writer on a file name that is not UTF-8) must not cost the end line.
@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    for nodeid, state in list(_tests.items()):  # reports without a logfinish
        _finish(nodeid, state)
    _tests.clear()
    _write(e="end", status=int(exitstatus))

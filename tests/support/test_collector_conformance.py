"""The collector stand-in against real buildkite-test-collector 1.8.0 output.

For each scenario in fixtures/conformance, run the stand-in with the same
arguments on the same project and compare with the real file field by field
and in key order. Ignored: `id` values (random UUIDs) and timing numbers.
Normalised: the absolute project path (the real run was in /builds/acme/shop)
and object addresses (0x...), which differ on every run of the real collector too.

A failure's text (failure_reason, failure_expanded) is pytest's own report of
the failure, passed through: its wording, its traceback's frames and line
numbers change with pytest and Python. It is compared in full on the pytest the
recording was made with (7.2.1, Debian 12's, which CI runs), and by its shape
(keys, types) on the others (6.0 on Debian 11, 8.3 on Debian 13: scripts/platforms);
every other field, and the order of keys, must match on all of them.
"""
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
SOURCE = pathlib.Path(os.environ.get("TEP_SOURCE_DIR", HERE.parent.parent))
CONFORMANCE = SOURCE / "fixtures" / "conformance" / "pytest-7.2.1-collector-1.8.0"
SCENARIOS = ["all-passing", "clean-run", "collection-error-continue", "collection-error-stops",
             "retry-selectors", "vanished-file", "xdist-two-workers"]
# --tag-filters, on a project of its own (execution_tag on functions, classes, the module,
# parametrized tests, a value with ':'): each scenario also has the ids `--collect-only -q` listed.
TAGS = SOURCE / "fixtures" / "conformance" / "pytest-7.2.1-collector-1.8.0-tags"
TAG_SCENARIOS = ["tags-payments", "tags-module-marker", "tags-colon-value", "tags-no-match", "tags-no-colon",
                 "tags-class-override"]
TIMING = {"start_at", "end_at", "duration"}
# The shapes real repositories hit, each on a project of its own (projects/<case>): teardown and
# setup errors, pytest-rerunfailures, a monorepo's rootdir below where pytest runs, an unknown node id.
REAL = SOURCE / "fixtures" / "conformance" / "pytest-7.2.1-collector-1.8.0-real-repos"
REAL_SCENARIOS = ["teardown-error", "setup-error", "rerunfailures", "monorepo-rootdir", "id-not-found"]
# pytest stops before writing anything: no result file at all, from either collector
REAL_NO_FILE = ["conftest-broken", "usage-error"]
RECORDED_PYTEST = "7.2.1"
PYTEST_TEXT = {"failure_reason", "failure_expanded"}


def shape(value):
    if isinstance(value, dict):
        return [(k, shape(v)) for k, v in value.items()]
    if isinstance(value, list):
        return ("list of", sorted({repr(shape(v)) for v in value}))
    return type(value).__name__


def normalise(value, project):
    if isinstance(value, dict):
        return [(k, shape(v) if k in PYTEST_TEXT and pytest.__version__ != RECORDED_PYTEST else normalise(v, project))
                for k, v in value.items() if k != "id" and k not in TIMING]
    if isinstance(value, list):
        return [normalise(v, project) for v in value]
    if isinstance(value, str):
        value = value.replace(str(project), "/builds/acme/shop")
        return re.sub(r"0x[0-9a-f]+", "0xADDR", value)
    return value


def standin_env():
    env = dict(os.environ, PYTHONPATH=str(HERE), PYTHONDONTWRITEBYTECODE="1")
    env.pop("BUILDKITE_ANALYTICS_TOKEN", None)
    # pytest prints full assertion diffs when it thinks it runs on CI (CI or
    # BUILD_NUMBER set); the reference files were made outside CI.
    env.pop("CI", None)
    env.pop("BUILD_NUMBER", None)
    return env


def scenario_argv(base, scenario):
    args = (base / f"{scenario}.args").read_text().split("\n")[0]
    # The .args files are shell words; the only quoting needed is the ids with spaces.
    return re.findall(r"\S+\[[^\]]*\]|\S+", args)


def run_standin(tmp_path, scenario, base=CONFORMANCE):
    project = tmp_path / "shop"
    shutil.copytree(base / "projects" / scenario if base == REAL else base / "project", project)
    out = tmp_path / "out.json"
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "tep_collector", "-p", "no:cacheprovider",
                           *scenario_argv(base, scenario), f"--json={out}"], cwd=project, env=standin_env(),
                          capture_output=True, text=True)
    return proc.returncode, out, project


@pytest.mark.parametrize("scenario", SCENARIOS + TAG_SCENARIOS + REAL_SCENARIOS)
def test_matches_real_collector(tmp_path, scenario):
    if scenario == "xdist-two-workers":
        pytest.importorskip("xdist")
    if scenario == "rerunfailures":
        pytest.importorskip("pytest_rerunfailures")  # Debian's python3-pytest-rerunfailures
    base = TAGS if scenario in TAG_SCENARIOS else REAL if scenario in REAL_SCENARIOS else CONFORMANCE
    code, out, project = run_standin(tmp_path, scenario, base)
    assert code == int((base / f"{scenario}.exit").read_text()), out.read_text() if out.exists() else ""
    raw = out.read_text(encoding="ascii")
    assert not raw.endswith("\n") and "\n" not in raw, "one line, no trailing newline"
    ours = json.loads(raw)
    real = json.loads((base / f"{scenario}.json").read_text())
    # completion order is not deterministic under xdist; pytest 8 collects in another order
    if scenario == "xdist-two-workers" or pytest.__version__ != RECORDED_PYTEST:
        key = lambda r: (r["scope"], r["name"])
        ours, real = sorted(ours, key=key), sorted(real, key=key)
    assert len(ours) == len(real)
    for mine, theirs in zip(ours, real):
        assert list(mine.keys()) == list(theirs.keys()), (mine["name"], list(mine), list(theirs))
        assert normalise(mine, project) == normalise(theirs, project), mine["name"]
        assert isinstance(mine["history"]["start_at"], float)


@pytest.mark.parametrize("scenario", TAG_SCENARIOS)
def test_tag_filters_collect_what_the_real_collector_collects(tmp_path, scenario):
    """`pytest --collect-only -q --tag-filters k:v`: the same ids, in the same order, and the same exit status
    (5 when nothing matches)."""
    project = tmp_path / "shop"
    shutil.copytree(TAGS / "project", project)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "tep_collector", "-p", "no:cacheprovider",
                           "--collect-only", "-q", *scenario_argv(TAGS, scenario)], cwd=project, env=standin_env(),
                          capture_output=True, text=True)
    ids = [line for line in proc.stdout.splitlines() if "::" in line]
    assert ids == (TAGS / f"{scenario}.ids").read_text().splitlines()
    assert proc.returncode == int((TAGS / f"{scenario}.collect-exit").read_text()), proc.stdout


@pytest.mark.parametrize("scenario", REAL_NO_FILE)
def test_writes_nothing_where_the_real_collector_writes_nothing(tmp_path, scenario):
    code, out, _ = run_standin(tmp_path, scenario, REAL)
    assert code == int((REAL / f"{scenario}.exit").read_text())
    assert not out.exists()
    assert not (REAL / f"{scenario}.json").exists()

"""The strict buildkite-agent stub holds every rule the real agent enforces.

Each test drives the stub the way a job does (argv, stdin, environment) and checks
stdout, stderr, the exit status and the store under $AGENT_DIR separately.
"""
import json
import os
import pathlib
import pty
import subprocess
import time

import pytest

STUB = str(pathlib.Path(__file__).resolve().parent / "buildkite-agent-stub")


@pytest.fixture
def agent(tmp_path, monkeypatch):
    """agent(*argv, input=None, env={...}, cwd=None) -> CompletedProcess (bytes)."""
    store = tmp_path / "agent"
    store.mkdir()
    base = {"PATH": "/usr/bin:/bin", "AGENT_DIR": str(store), "BUILDKITE_JOB_ID": "job-a0",
            "BUILDKITE_BUILD_ID": "build-1", "BUILDKITE_STEP_ID": "0190-step-uuid",
            "BUILDKITE_STEP_KEY": "tests", "BUILDKITE_LABEL": ":pytest: tests",
            "BUILDKITE_PARALLEL_JOB": "0", "BUILDKITE_RETRY_COUNT": "0"}

    def call(*argv, input=b"", env=None, cwd=None, stdin=None):
        full = dict(base, **(env or {}))
        full = {k: v for k, v in full.items() if v is not None}
        kwargs = {"stdin": stdin} if stdin is not None else {"input": input}
        return subprocess.run([STUB, *argv], env=full, cwd=cwd or tmp_path, capture_output=True,
                              timeout=30, **kwargs)
    call.store = store
    return call


# ---------------------------------------------------------------- stdout / stderr

def test_debug_and_retry_noise_go_to_stderr_only(agent):
    assert agent("meta-data", "set", "k", "value-1").returncode == 0
    noisy = {"BUILDKITE_AGENT_DEBUG": "true", "STUB_AGENT_WARN": "1"}
    r = agent("meta-data", "get", "k", env=noisy)
    assert r.returncode == 0
    assert r.stdout == b"value-1"
    assert b"DEBUG  Loaded config" in r.stderr
    assert b"WARN   POST" in r.stderr and b"retrying" in r.stderr
    r = agent("oidc", "request-token", "--audience", "aud", "--lifetime", "60", env=noisy)
    assert r.stdout == b"oidc-token-from-the-stub\n"
    assert b"DEBUG" in r.stderr
    quiet = agent("meta-data", "get", "k", env={"BUILDKITE_AGENT_DEBUG": "false"})
    assert quiet.stderr == b""


def test_get_prints_the_value_with_no_newline_added(agent):
    agent("meta-data", "set", "one", "abc")
    agent("meta-data", "set", "two", input=b"line\n")
    assert agent("meta-data", "get", "one").stdout == b"abc"
    assert agent("meta-data", "get", "two").stdout == b"line\n"


def test_info_lines_of_stdin_reads_are_on_stderr(agent):
    r = agent("meta-data", "set", "k", input=b"from stdin")
    assert r.returncode == 0 and r.stdout == b""
    assert b"Reading meta-data value from STDIN" in r.stderr
    assert (agent.store / "meta-data" / "k").read_bytes() == b"from stdin"


# ---------------------------------------------------------------- meta-data

def test_meta_data_and_annotations_are_json_strings_on_the_way(agent):
    """The agent posts values as JSON: Go's encoding/json turns each byte that is not valid
    UTF-8 into U+FFFD, so a Latin-1 byte does not come back; valid UTF-8 does."""
    agent("meta-data", "set", "k", input=b"caf\xe9 ok \xc3\xa9")
    assert agent("meta-data", "get", "k").stdout == b"caf\xef\xbf\xbd ok \xc3\xa9"
    agent("annotate", "--context", "c", input=b"x\xff")
    assert (agent.store / "annotations" / "c.md").read_bytes() == b"x\xef\xbf\xbd"


@pytest.mark.parametrize("value", ["", "   ", "\n\t"])
def test_empty_meta_data_is_refused(agent, value):
    r = agent("meta-data", "set", "k", value)
    assert r.returncode == 1
    assert b"value cannot be empty" in r.stderr
    r = agent("meta-data", "set", "k", input=value.encode())
    assert r.returncode == 1
    assert not (agent.store / "meta-data" / "k").exists()


def test_meta_data_limit_is_100000_bytes(agent):
    assert agent("meta-data", "set", "k", input=b"x" * 100_000).returncode == 0
    r = agent("meta-data", "set", "big", input=b"x" * 100_001)
    assert r.returncode == 1
    assert b"maximum is 100000" in r.stderr
    assert not (agent.store / "meta-data" / "big").exists()


def test_exists_exits_100_for_a_missing_key_and_get_fails(agent):
    assert agent("meta-data", "exists", "nope").returncode == 100
    r = agent("meta-data", "get", "nope")
    assert r.returncode == 1 and r.stdout == b""
    assert b"buildkite-agent: fatal: failed to get meta-data" in r.stderr
    r = agent("meta-data", "get", "nope", "--default", "fallback")
    assert (r.returncode, r.stdout) == (0, b"fallback")
    agent("meta-data", "set", "a/b:c", "v")
    assert agent("meta-data", "exists", "a/b:c").returncode == 0
    assert (agent.store / "meta-data" / "a_b_c").read_bytes() == b"v"


def test_keys_lists_every_key_once_a_newline_after_each(agent):
    assert (agent("meta-data", "keys").returncode, agent("meta-data", "keys").stdout) == (0, b"")
    for key, value in (("b:1", "x"), ("a/2", "y"), ("b:1", "z")):
        assert agent("meta-data", "set", key, value).returncode == 0
    r = agent("meta-data", "keys")
    assert (r.returncode, r.stdout) == (0, b"b:1\na/2\n")
    assert agent("meta-data", "keys", "extra").returncode == 1
    assert agent("meta-data", "keys", env={"BUILDKITE_JOB_ID": None}).returncode == 1


def test_meta_data_needs_a_job(agent):
    r = agent("meta-data", "set", "k", "v", env={"BUILDKITE_JOB_ID": None})
    assert r.returncode == 1 and b"missing job" in r.stderr


def test_set_without_a_value_reads_the_terminal_and_waits_like_the_agent(agent):
    master, slave = pty.openpty()
    proc = subprocess.Popen([STUB, "meta-data", "set", "k"], stdin=slave, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE,
                            env={"PATH": "/usr/bin:/bin", "AGENT_DIR": str(agent.store),
                                 "BUILDKITE_JOB_ID": "job-a0"})
    try:
        time.sleep(0.5)
        assert proc.poll() is None, "a value read from a terminal must block, as the agent's does"
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()
        os.close(master)
        os.close(slave)


# ---------------------------------------------------------------- annotate

def annotation(agent, context):
    return (agent.store / "annotations" / (context + ".md")).read_bytes()


def test_annotation_body_limit_is_one_mebibyte_including_appends(agent):
    limit = 1024 * 1024
    assert agent("annotate", "--context", "c", input=b"a" * limit).returncode == 0
    r = agent("annotate", "--context", "d", input=b"a" * (limit + 1))
    assert r.returncode == 1 and b"exceeds maximum" in r.stderr
    r = agent("annotate", "--context", "c", "--append", input=b"b")
    assert r.returncode == 1 and b"after --append" in r.stderr
    assert annotation(agent, "c") == b"a" * limit


def test_annotation_context_limit_is_100_characters(agent):
    assert agent("annotate", "body", "--context", "c" * 100).returncode == 0
    r = agent("annotate", "body", "--context", "c" * 101)
    assert r.returncode == 1 and b"maximum is 100" in r.stderr


def test_append_appends_and_creates_while_a_plain_annotate_replaces(agent):
    assert agent("annotate", "--context", "ctx", "--append", input=b"first ").returncode == 0
    assert agent("annotate", "--context", "ctx", "--append", input=b"second").returncode == 0
    assert annotation(agent, "ctx") == b"first second"
    assert agent("annotate", "replaced", "--context", "ctx", "--style", "error").returncode == 0
    assert annotation(agent, "ctx") == b"replaced"
    assert (agent.store / "annotations" / "ctx.style").read_text() == "error"


def test_annotate_checks_style_priority_scope_and_takes_env_fallbacks(agent):
    assert agent("annotate", "b", "--style", "fancy").returncode == 1
    assert agent("annotate", "b", "--priority", "11").returncode == 1
    assert agent("annotate", "b", "--scope", "step").returncode == 1
    assert agent("annotate", "b", "--bogus").returncode == 1
    r = agent("annotate", "from env", env={"BUILDKITE_ANNOTATION_CONTEXT": "envctx",
                                           "BUILDKITE_ANNOTATION_STYLE": "info"})
    assert r.returncode == 0
    assert annotation(agent, "envctx") == b"from env"
    assert agent("annotate", "job only", "--context", "j", "--scope", "job").returncode == 0
    assert (agent.store / "annotations" / "job-job-a0" / "j.md").read_bytes() == b"job only"


def test_an_argument_body_wins_and_an_empty_new_annotation_is_refused(agent):
    assert agent("annotate", "arg body", "--context", "x", input=b"ignored").returncode == 0
    assert annotation(agent, "x") == b"arg body"
    r = agent("annotate", "--context", "empty", stdin=subprocess.DEVNULL)
    assert r.returncode == 1 and b"blank" in r.stderr


# ---------------------------------------------------------------- oidc

def test_oidc_token_and_failure(agent):
    r = agent("oidc", "request-token", "--audience", "https://x/y", "--lifetime", "1800",
              env={"STUB_OIDC_TOKEN": "tok-1"})
    assert (r.returncode, r.stdout) == (0, b"tok-1\n")
    assert "oidc request-token --audience https://x/y --lifetime 1800" in (agent.store / "calls").read_text()
    r = agent("oidc", "request-token", "--lifetime", "2h")
    assert r.returncode == 1 and b"-lifetime" in r.stderr
    r = agent("oidc", "request-token", "--audience", "a", env={"STUB_OIDC_FAIL": "1"})
    assert r.returncode == 1 and r.stdout == b"" and b"could not obtain OIDC token" in r.stderr


# ---------------------------------------------------------------- artifacts

def upload(agent, tmp_path, name, content, env=None):
    (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / name).write_text(content)
    r = agent("artifact", "upload", name, env=env)
    assert r.returncode == 0, r.stderr
    return r


def download(agent, tmp_path, query, *flags, env=None):
    dest = tmp_path / ("dl-%d" % time.monotonic_ns())
    dest.mkdir()
    r = agent("artifact", "download", query, str(dest), *flags, env=env)
    return r, dest


def test_upload_records_paths_and_the_uploading_job(agent, tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a.txt").write_text("A")
    (tmp_path / "b.log").write_text("B")
    r = agent("artifact", "upload", "out/*.txt;b.log;none-*")
    assert r.returncode == 0
    index = [json.loads(line) for line in (agent.store / "artifacts" / "index.jsonl").read_text().splitlines()]
    assert [(a["path"], a["job_id"], a["step_key"], a["retry_count"]) for a in index] == \
        [("out/a.txt", "job-a0", "tests", 0), ("b.log", "job-a0", "tests", 0)]
    r = agent("artifact", "upload", "nothing-here-*")
    assert r.returncode == 0 and b"No files matched paths" in r.stderr
    r = agent("artifact", "upload", "out/a.txt", "b.log")  # an unquoted glob the shell expanded
    assert r.returncode == 1 and b"invalid upload destination" in r.stderr


@pytest.mark.parametrize("step", ["tests", ":pytest: tests", "job-a0"])
def test_download_by_step_key_label_or_job_id(agent, tmp_path, step):
    upload(agent, tmp_path, "sel.txt", "selectors")
    r, dest = download(agent, tmp_path, "sel.txt", "--step", step)
    assert r.returncode == 0, r.stderr
    assert (dest / "sel.txt").read_text() == "selectors"
    assert r.stdout == b""


def test_a_step_uuid_is_not_a_step(agent, tmp_path):
    upload(agent, tmp_path, "sel.txt", "selectors")
    r, dest = download(agent, tmp_path, "sel.txt", "--step", "0190-step-uuid")
    assert r.returncode == 1
    assert b"no artifacts found for downloading" in r.stderr
    assert b"no matching step" in r.stderr
    assert list(dest.iterdir()) == []


def test_a_retry_sees_the_earlier_attempt_only_with_include_retried_jobs(agent, tmp_path):
    upload(agent, tmp_path, "sel.txt", "attempt 0")
    retry = {"BUILDKITE_JOB_ID": "job-a1", "BUILDKITE_RETRY_COUNT": "1"}
    r, _ = download(agent, tmp_path, "sel.txt", "--step", "tests", env=retry)
    assert r.returncode == 1 and b"no artifacts found" in r.stderr
    r, _ = download(agent, tmp_path, "sel.txt", env=retry)
    assert r.returncode == 1, "without --step the retried attempt is hidden as well"
    r, dest = download(agent, tmp_path, "sel.txt", "--step", "tests", "--include-retried-jobs", env=retry)
    assert r.returncode == 0 and (dest / "sel.txt").read_text() == "attempt 0"


def test_a_registered_retry_hides_the_attempt_from_every_other_job(agent, tmp_path):
    upload(agent, tmp_path, "sel.txt", "attempt 0")
    with open(agent.store / "jobs.jsonl", "a") as f:
        f.write(json.dumps({"job_id": "job-a1", "step_id": "0190-step-uuid", "step_key": "tests",
                            "label": ":pytest: tests", "parallel_job": "0", "retry_count": 1,
                            "build_id": "build-1"}) + "\n")
    other = {"BUILDKITE_JOB_ID": "job-z", "BUILDKITE_STEP_ID": "other", "BUILDKITE_STEP_KEY": "report",
             "BUILDKITE_PARALLEL_JOB": None}
    r, _ = download(agent, tmp_path, "sel.txt", "--step", "tests", env=other)
    assert r.returncode == 1
    r, _ = download(agent, tmp_path, "sel.txt", "--step", "tests", "--include-retried-jobs", env=other)
    assert r.returncode == 0


def test_retry_chains_are_per_parallel_job(agent, tmp_path):
    upload(agent, tmp_path, "zero.txt", "index 0")
    retry_of_1 = {"BUILDKITE_JOB_ID": "job-b1", "BUILDKITE_PARALLEL_JOB": "1", "BUILDKITE_RETRY_COUNT": "1"}
    r, dest = download(agent, tmp_path, "zero.txt", "--step", "tests", env=retry_of_1)
    assert r.returncode == 0 and (dest / "zero.txt").read_text() == "index 0"


def test_download_needs_an_existing_directory_and_the_same_build(agent, tmp_path):
    upload(agent, tmp_path, "pkg/app.txt", "app")
    r = agent("artifact", "download", "pkg/*", str(tmp_path / "missing"))
    assert r.returncode == 1 and b"could not find information about destination" in r.stderr
    r, _ = download(agent, tmp_path, "pkg/*", env={"BUILDKITE_BUILD_ID": "build-2"})
    assert r.returncode == 1
    (tmp_path / "into" / "pkg").mkdir(parents=True)
    r = agent("artifact", "download", "pkg/*", str(tmp_path / "into" / "pkg"))
    assert r.returncode == 0
    assert (tmp_path / "into" / "pkg" / "app.txt").read_text() == "app"  # not pkg/pkg/app.txt


# ---------------------------------------------------------------- the rest

def test_promise_failure_pipeline_upload_and_unsupported_calls(agent, tmp_path):
    assert agent("job", "promise-failure", "1", "--reason", "tests failed").returncode == 0
    assert json.loads((agent.store / "promised-failures.jsonl").read_text())["exit_status"] == 1
    assert agent("job", "promise-failure", "0").returncode == 1
    (tmp_path / "p.yml").write_text("steps:\n  - command: true\n")
    assert agent("pipeline", "upload", "p.yml").returncode == 0
    assert (agent.store / "pipelines" / "1.yml").read_text().startswith("steps:")
    r = agent("meta-data", "set-batch")
    assert r.returncode == 2 and b"unsupported call" in r.stderr
    r = agent("step", "get", "outcome")
    assert r.returncode == 2


def test_calls_are_logged_one_line_each(agent):
    agent("meta-data", "set", "k", "two\nlines")
    agent("meta-data", "get", "k")
    lines = (agent.store / "calls").read_text().splitlines()
    assert lines == ["meta-data set k two\\nlines", "meta-data get k"]
    records = [json.loads(line) for line in (agent.store / "calls.jsonl").read_text().splitlines()]
    assert [(r["argv"][1], r["exit"], r["job_id"]) for r in records] == [("set", 0, "job-a0"), ("get", 0, "job-a0")]


def test_secrets_the_agent_would_redact_are_recorded(agent):
    r = agent("annotate", "token is tok-VERY-SECRET", "--context", "leak",
              env={"BUILDKITE_ANALYTICS_TOKEN": "tok-VERY-SECRET"})
    assert r.returncode == 0 and b"redacted" in r.stderr
    assert (agent.store / "redactions").read_text() == "annotate --context leak: BUILDKITE_ANALYTICS_TOKEN\n"
    assert b"tok-VERY-SECRET" in annotation(agent, "leak"), "kept so leak tests still find it"

"""job_runner.py runs a job the way the agent's executor does.

Tiny fake plugins are written into tmp dirs; every test runs the real runner as a
process and reads its job log (stdout), its summary JSON and files the hooks wrote.
Grace periods are 1 s so the whole file stays fast.
"""
import json
import os
import pathlib
import subprocess
import textwrap
import time

import pytest

RUNNER = str(pathlib.Path(__file__).resolve().parent / "job_runner.py")
PY = "/usr/bin/python3"


class Job:
    def __init__(self, proc, summary_path):
        self.status = proc.returncode
        self.log = proc.stdout.decode("utf-8", "replace")
        self.stderr = proc.stderr.decode("utf-8", "replace")
        self.summary = json.loads(summary_path.read_text()) if summary_path.exists() else None

    def phase(self, name):
        return [p for p in self.summary["phases"] if p["name"] == name]


@pytest.fixture
def job(tmp_path):
    """job(command, plugins=[(hooks, repo, config)], *extra args) -> Job."""
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    counter = [0]

    def make_plugin(hooks):
        counter[0] += 1
        folder = tmp_path / ("plugin-%d" % counter[0])
        (folder / "hooks").mkdir(parents=True)
        for name, body in hooks.items():
            path = folder / "hooks" / name
            path.write_text(textwrap.dedent(body).lstrip())
            path.chmod(0o755)
        return folder

    def run(command, plugins=(), *extra, timeout=60):
        args = [PY, RUNNER, "--checkout", str(checkout), "--command", command,
                "--agent-dir", str(tmp_path / "agent"), "--summary", str(tmp_path / "summary.json")]
        for plugin in plugins:
            hooks, repo, config = (tuple(plugin) + (None, None))[:3]
            source = make_plugin(hooks)
            args += ["--plugin", "%s=%s" % (source, repo) if repo else str(source)]
            if config is not None:
                args += ["--plugin-config", json.dumps(config) if not isinstance(config, str) else config]
        (tmp_path / "summary.json").unlink(missing_ok=True)
        proc = subprocess.run(args + list(extra), capture_output=True, timeout=timeout,
                              env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
        return Job(proc, tmp_path / "summary.json")
    run.checkout = checkout
    run.tmp = tmp_path
    run.make_plugin = make_plugin
    return run


def lines(path):
    return pathlib.Path(path).read_text().splitlines()


# ---------------------------------------------------------------- environment

def test_exports_of_pre_command_reach_the_command_and_option_variables_do_not(job):
    hooks = {"pre-command": """
        #!/usr/bin/env bash
        echo "in hook: $BUILDKITE_PLUGIN_TEST_ENGINE_PYTEST_SUITE_SLUG"
        export FROM_PRE=carried
        NOT_EXPORTED=lost
        """}
    j = job('echo "cmd: FROM_PRE=$FROM_PRE slug=${BUILDKITE_PLUGIN_TEST_ENGINE_PYTEST_SUITE_SLUG-unset} '
            'name=${BUILDKITE_PLUGIN_NAME-unset} config=${BUILDKITE_PLUGIN_CONFIGURATION-unset} '
            'plain=${NOT_EXPORTED-unset}"', [(hooks, None, {"suite-slug": "shop"})])
    assert j.status == 0, j.log
    assert "in hook: shop" in j.log
    assert "cmd: FROM_PRE=carried slug=unset name=unset config=unset plain=unset" in j.log
    assert j.phase("plugin test-engine-pytest pre-command hook")[0]["env"]["added"] == ["FROM_PRE"]


def test_option_variables_are_named_from_the_repository(job):
    dump = {"pre-command": "env | grep '^BUILDKITE_PLUGIN' | sort > \"$BUILDKITE_BUILD_CHECKOUT_PATH/env-$BUILDKITE_PLUGIN_NAME\"\n"}
    j = job("true", [
        (dump, None, '{"suite-slug": "shop", "tags": ["a=1", "b=2"], "debug-enabled": true, '
                     '"oidc": false, "api-timeout": 15, "ratio": 1.50}'),
        (dump, "https://example.com/acme/test-engine-pytest.git", {"suite-slug": "other"}),
        (dump, "github.com/acme/other-thing-buildkite-plugin#v2.0.0", {"nested": {"sub-key": [7]}}),
    ])
    assert j.status == 0, j.log
    first = lines(job.checkout / "env-TEST_ENGINE_PYTEST")
    assert "BUILDKITE_PLUGIN_TEST_ENGINE_PYTEST_SUITE_SLUG=shop" in first
    assert "BUILDKITE_PLUGIN_TEST_ENGINE_PYTEST_TAGS_0=a=1" in first
    assert "BUILDKITE_PLUGIN_TEST_ENGINE_PYTEST_TAGS_1=b=2" in first
    assert "BUILDKITE_PLUGIN_TEST_ENGINE_PYTEST_DEBUG_ENABLED=true" in first
    assert "BUILDKITE_PLUGIN_TEST_ENGINE_PYTEST_OIDC=false" in first
    assert "BUILDKITE_PLUGIN_TEST_ENGINE_PYTEST_API_TIMEOUT=15" in first
    assert "BUILDKITE_PLUGIN_TEST_ENGINE_PYTEST_RATIO=1.50" in first
    assert ('BUILDKITE_PLUGIN_CONFIGURATION={"api-timeout":15,"debug-enabled":true,"oidc":false,'
            '"ratio":1.50,"suite-slug":"shop","tags":["a=1","b=2"]}') in first
    second = lines(job.checkout / "env-TEST_ENGINE_PYTEST_GIT")
    assert "BUILDKITE_PLUGIN_TEST_ENGINE_PYTEST_GIT_SUITE_SLUG=other" in second
    assert not any(line.startswith("BUILDKITE_PLUGIN_TEST_ENGINE_PYTEST_SUITE_SLUG") for line in second), \
        "one plugin's options are not visible to another plugin's hooks"
    third = lines(job.checkout / "env-OTHER_THING")
    assert "BUILDKITE_PLUGIN_OTHER_THING_NESTED_SUB_KEY_0=7" in third
    assert [p["env_prefix"] for p in j.summary["plugins"]] == [
        "BUILDKITE_PLUGIN_TEST_ENGINE_PYTEST_", "BUILDKITE_PLUGIN_TEST_ENGINE_PYTEST_GIT_",
        "BUILDKITE_PLUGIN_OTHER_THING_"]
    plugins_json = [line for line in first if line.startswith("BUILDKITE_PLUGINS=")][0]
    assert json.loads(plugins_json.split("=", 1)[1])[1] == {
        "https://example.com/acme/test-engine-pytest.git": {"suite-slug": "other"}}


def test_a_null_option_leaves_the_plugin_without_any_variables(job):
    hooks = {"pre-command": 'echo "name=${BUILDKITE_PLUGIN_NAME-unset}"\n'}
    j = job("true", [(hooks, None, {"suite-slug": None})])
    assert "Error configuring plugin environment" in j.log
    assert "name=unset" in j.log


def test_the_job_environment_and_its_env_file(job):
    hooks = {"pre-command": 'cp "$BUILDKITE_ENV_FILE" "$BUILDKITE_BUILD_CHECKOUT_PATH/envfile"\n'}
    j = job('echo "agent=$(command -v buildkite-agent) job=$BUILDKITE_JOB_ID cancelled=${BUILDKITE_JOB_CANCELLED-no}"',
            [(hooks,)], "--env", "BUILDKITE_JOB_ID=job-77", "--env", "MESSAGE=a \"quoted\" value",
            "--env", "BUILDKITE_STEP_KEY=tests", "--env", "BUILDKITE_RETRY_COUNT=2")
    assert j.status == 0, j.log
    assert "agent=%s job=job-77 cancelled=no" % (job.tmp / "agent" / "bin" / "buildkite-agent") in j.log
    env_file = lines(job.checkout / "envfile")
    assert 'MESSAGE="a \\"quoted\\" value"' in env_file
    assert 'BUILDKITE_JOB_ID="job-77"' in env_file
    assert not any(line.startswith("PATH=") for line in env_file), "PATH is the host's, not Buildkite's"
    registered = json.loads((job.tmp / "agent" / "jobs.jsonl").read_text())
    assert (registered["job_id"], registered["step_key"], registered["retry_count"]) == ("job-77", "tests", 2)


# ---------------------------------------------------------------- hooks and phases

def order_hooks(n):
    log = 'echo "%s %d" >> "$BUILDKITE_BUILD_CHECKOUT_PATH/order"\n'
    return {phase: log % (phase, n) for phase in ("pre-command", "post-command", "pre-exit")}


def test_post_command_and_pre_exit_run_in_reverse_plugin_order(job):
    j = job('echo "command" >> order', [(order_hooks(n), "acme/p%d-buildkite-plugin" % n) for n in (1, 2, 3)])
    assert j.status == 0, j.log
    assert lines(job.checkout / "order") == [
        "pre-command 1", "pre-command 2", "pre-command 3", "command",
        "post-command 3", "post-command 2", "post-command 1", "pre-exit 3", "pre-exit 2", "pre-exit 1"]


def test_a_failing_pre_command_skips_command_and_post_command_but_pre_exit_runs(job):
    failing = dict(order_hooks(1), **{"pre-command": "echo 'pre-command 1' >> \"$BUILDKITE_BUILD_CHECKOUT_PATH/order\"; exit 7\n"})
    j = job('echo "command" >> order', [(failing, "acme/one"), (order_hooks(2), "acme/two")])
    assert j.status == 7
    assert lines(job.checkout / "order") == ["pre-command 1", "pre-exit 2", "pre-exit 1"]
    assert j.summary["exit_status"] == 7 and j.summary["status"] == "failed"
    assert j.phase("command phase")[0]["skipped"] == "a pre-command hook failed"


@pytest.mark.parametrize("post, pre_exit, expected", [("0", "0", 3), ("5", "0", 5), ("5", "6", 6), ("0", "6", 6)])
def test_a_failing_post_command_then_pre_exit_replace_the_status(job, post, pre_exit, expected):
    hooks = {"post-command": "exit %s\n" % post, "pre-exit": "exit %s\n" % pre_exit}
    j = job("exit 3", [(hooks,)])
    assert j.status == expected
    assert j.summary["command_exit_status"] == "3"


def test_post_command_sees_the_command_status_and_can_rewrite_it(job):
    hooks = {"post-command": 'echo "saw $BUILDKITE_COMMAND_EXIT_STATUS"\nexport BUILDKITE_COMMAND_EXIT_STATUS=0\n'}
    j = job("exit 4", [(hooks,)])
    assert "saw 4" in j.log
    assert j.status == 0, "the agent reads the status back from the job environment"


def test_a_command_hook_replaces_the_step_command(job):
    hooks = {"command": 'echo "hook ran instead"; touch hook-ran\n'}
    second = {"command": 'echo "second command hook"\n'}
    j = job("touch step-ran", [(hooks, "acme/first"), (second, "acme/second")])
    assert j.status == 0, j.log
    assert (job.checkout / "hook-ran").exists()
    assert not (job.checkout / "step-ran").exists()
    assert "a plugin command hook replaces it" in j.log
    assert "The additional command hook" in j.log and "second command hook" in j.log


def test_hooks_are_sourced(job):
    hooks = {"pre-command": "set -e\nexport BEFORE_FAIL=1\nfalse\necho 'after false'\n"}
    j = job('echo "BEFORE_FAIL=${BEFORE_FAIL-unset}"', [(hooks,)])
    assert j.status == 1, "set -e in a sourced hook stops the wrapper"
    assert "after false" not in j.log
    exits = {"pre-command": "export LOST=1\nexit 0\n"}
    j = job('echo "LOST=${LOST-unset}"', [(exits,)])
    assert j.status == 0 and "LOST=unset" in j.log, "`exit` in a sourced hook loses its exports"
    assert j.phase("plugin test-engine-pytest pre-command hook")[0]["early_exit"] is True
    (job.checkout / "sub").mkdir()
    moves = {"pre-command": "cd sub\n"}
    j = job('echo "cwd=$(pwd)"', [(moves,)])
    assert "cwd=%s" % (job.checkout / "sub") in j.log


@pytest.mark.parametrize("errexit", [False, True])
def test_hook_errexit_sources_hooks_with_set_euo_pipefail_on(job, errexit):
    hooks = {"pre-command": 'echo "options: $-"; [[ -o pipefail ]] && echo "pipefail: on"\n'
                            'false\necho "after false"\nexport SEEN=yes\n'}
    extra = ["--hook-errexit"] if errexit else []
    j = job('echo "SEEN=${SEEN-unset}"', [(hooks,)], *extra)
    options = [line for line in j.log.splitlines() if line.startswith("options: ")][0]
    if errexit:
        assert j.status == 1, j.log
        assert "e" in options and "u" in options and "pipefail: on" in j.log
        assert "after false" not in j.log, "errexit ends the wrapper at the failing command"
        assert j.phase("command phase")[0]["skipped"] == "a pre-command hook failed"
    else:
        assert j.status == 0, j.log
        assert "e" not in options.split()[1] and "pipefail: on" not in j.log
        assert "after false" in j.log and "SEEN=yes" in j.log


def test_protected_variables_cannot_be_changed_by_a_hook(job):
    hooks = {"pre-command": "export BUILDKITE_AGENT_ACCESS_TOKEN=stolen BUILDKITE_PLUGINS_PATH=/elsewhere\n"}
    j = job('echo "token=$BUILDKITE_AGENT_ACCESS_TOKEN path=$BUILDKITE_PLUGINS_PATH"', [(hooks,)])
    assert "Changes to some env vars were blocked" in j.log
    assert "token=stolen" not in j.log and "path=/elsewhere" not in j.log


def test_the_plugin_checkout_is_reused_and_leaves_vcs_and_build_dirs_out(job):
    source = job.make_plugin({"pre-command": "cat \"$(dirname \"$BASH_SOURCE\")/../VERSION\"\n"
                                             "ls -A \"$(dirname \"$BASH_SOURCE\")/..\" > \"$BUILDKITE_BUILD_CHECKOUT_PATH/listing\"\n"})
    (source / "VERSION").write_text("v1\n")
    for junk in (".git", "build", "build-asan", "lib/__pycache__"):
        (source / junk).mkdir(parents=True)
    plugins_path = job.tmp / "plugins"
    args = [PY, RUNNER, "--checkout", str(job.checkout), "--command", "true", "--plugin", str(source),
            "--plugins-path", str(plugins_path), "--agent-name", "agent-7"]
    first = subprocess.run(args, capture_output=True, text=True, timeout=30)
    assert first.returncode == 0 and "v1" in first.stdout
    assert lines(job.checkout / "listing") == ["VERSION", "hooks", "lib"]
    (source / "VERSION").write_text("v2\n")
    second = subprocess.run(args, capture_output=True, text=True, timeout=30)
    assert "already checked out" in second.stdout and "v1" in second.stdout
    assert (plugins_path / "agent-7" / "test-engine-pytest-buildkite-plugin" / "hooks").is_dir()


# ---------------------------------------------------------------- terminal

def test_the_command_owns_the_terminal_in_the_foreground(job):
    probe = ("import os, termios; fg = os.tcgetpgrp(0) == os.getpgrp(); "
             "termios.tcsetattr(0, termios.TCSANOW, termios.tcgetattr(0)); "
             "print('tty', os.isatty(0), 'foreground', fg, 'TERM', os.environ['TERM'])")
    j = job("%s -c \"%s\"" % (PY, probe))
    assert j.status == 0, j.log
    assert "tty True foreground True TERM xterm-256color" in j.log
    assert "\r\n" not in j.log


def test_a_hook_with_another_interpreter_runs_unwrapped_with_the_terminal(job):
    hook = {"pre-command": """
        #!/usr/bin/python3
        import os, termios
        termios.tcsetattr(0, termios.TCSANOW, termios.tcgetattr(0))
        print("python hook foreground", os.tcgetpgrp(0) == os.getpgrp(), flush=True)
        os.environ["FROM_PYTHON"] = "1"
        """}
    j = job('echo "FROM_PYTHON=${FROM_PYTHON-unset}"', [(hook,)])
    assert j.status == 0, j.log
    assert "python hook foreground True" in j.log
    assert "FROM_PYTHON=unset" in j.log
    assert j.phase("plugin test-engine-pytest pre-command hook")[0]["type"] == "script"


def test_a_background_process_group_is_stopped_by_the_terminal(job):
    probe = textwrap.dedent("""
        import os, signal, termios
        pid = os.fork()
        if pid == 0:
            os.setpgid(0, 0)
            termios.tcsetattr(0, termios.TCSANOW, termios.tcgetattr(0))
            os._exit(0)
        _, status = os.waitpid(pid, os.WUNTRACED)
        print('child stopped by', signal.Signals(os.WSTOPSIG(status)).name if os.WIFSTOPPED(status) else 'nothing')
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        """)
    (job.checkout / "probe.py").write_text(probe)
    j = job("%s probe.py" % PY)
    assert "child stopped by SIGTTOU" in j.log
    j = job("%s probe.py" % PY, (), "--no-pty")
    assert "child stopped by nothing" in j.log, "without a terminal nothing stops it"


def test_without_pty_stdin_is_dev_null_and_the_phase_has_its_own_group(job):
    probe = "import os; print('tty', os.isatty(0), 'leader', os.getpgrp() == os.getpid(), 'session', os.getsid(0) == os.getpid())"
    j = job("%s -c \"%s\"" % (PY, probe), (), "--no-pty")
    assert "tty False leader True session False" in j.log
    j = job("%s -c \"%s\"" % (PY, probe))
    assert "tty True leader True session True" in j.log


# ---------------------------------------------------------------- cancellation and survivors

SURVIVOR = textwrap.dedent("""
    import signal, sys, time
    signal.signal(signal.SIGTERM, lambda *a: open(sys.argv[1], "w").write("got SIGTERM"))
    open(sys.argv[2], "w").write("up")
    time.sleep(120)
    """)
GROUP_MEMBER = textwrap.dedent("""
    import signal, sys, time
    signal.signal(signal.SIGTERM, lambda *a: open(sys.argv[1], "w").write("got SIGTERM"))
    print("member ready", flush=True)
    time.sleep(120)
    """)


def test_cancel_sends_sigterm_then_sigkill_to_the_process_group_only(job):
    (job.checkout / "survivor.py").write_text(SURVIVOR)
    (job.checkout / "member.py").write_text(GROUP_MEMBER)
    command = ("trap '' TERM; setsid %s survivor.py survivor-term survivor-up </dev/null >/dev/null 2>&1 & "
               "while [ ! -e survivor-up ]; do sleep 0.02; done; %s member.py member-term & wait" % (PY, PY))
    hooks = {"post-command": "touch post-ran\n", "pre-exit": "touch pre-exit-ran\n"}
    started = time.monotonic()
    j = job(command, [(hooks,)], "--cancel-after", "1", "--grace-period", "1")
    elapsed = time.monotonic() - started
    command_phase = j.phase("command phase")[0]
    assert command_phase["sigterm_sent"] is True and command_phase["sigkill_sent"] is True
    assert command_phase["signal"] == "SIGKILL"
    assert 1.0 <= command_phase["sigterm_to_end_seconds"] < 3.0, "SIGKILL only after the grace period"
    assert (job.checkout / "member-term").read_text() == "got SIGTERM"
    assert not (job.checkout / "survivor-term").exists(), "setsid took it out of the process group"
    survivors = j.summary["survivors"]
    assert len(survivors) == 1 and "survivor.py" in survivors[0]["cmdline"]
    assert not pathlib.Path("/proc/%d" % survivors[0]["pid"]).exists(), "the runner killed it afterwards"
    assert not (job.checkout / "post-ran").exists() and not (job.checkout / "pre-exit-ran").exists(), \
        "the agent kills the job when the grace period ends: nothing runs after it"
    assert [p.get("skipped", "")[:20] for p in j.summary["phases"][1:]] == ["the agent killed the"] * 2
    assert (j.summary["exit_status"], j.summary["signal"], j.status) == (-1, "SIGKILL", 137)
    assert j.summary["status"] == "canceled" and j.summary["cancel"]["bootstrap_killed"] is True
    assert elapsed < 30


def test_a_command_that_stops_on_sigterm_leaves_time_for_post_command_and_pre_exit(job):
    hooks = {"post-command": 'echo "post: status=$BUILDKITE_COMMAND_EXIT_STATUS cancelled=$BUILDKITE_JOB_CANCELLED"\n',
             "pre-exit": 'echo "pre-exit ran"\n'}
    (job.checkout / "flag").write_text("")
    j = job("sleep 60", [(hooks,)], "--cancel-when-file", str(job.checkout / "flag"), "--grace-period", "5")
    command_phase = j.phase("command phase")[0]
    assert command_phase["signal"] == "SIGTERM" and "sigkill_sent" not in command_phase
    assert command_phase["sigterm_to_end_seconds"] < 1.0
    assert "post: status=-1 cancelled=true" in j.log
    assert "pre-exit ran" in j.log
    assert (j.summary["exit_status"], j.status, j.summary["cancel"]["reason"]) == (255, 255, "--cancel-when-file")


def test_hooks_after_a_cancel_only_get_what_is_left_of_the_grace_period(job):
    hooks = {"post-command": "sleep 30\ntouch post-finished\n", "pre-exit": "touch pre-exit-ran\n"}
    (job.checkout / "flag").write_text("")
    started = time.monotonic()
    j = job("sleep 60", [(hooks,)], "--cancel-when-file", str(job.checkout / "flag"), "--grace-period", "1")
    assert time.monotonic() - started < 10
    post, pre_exit = j.phase("plugin test-engine-pytest post-command hook") + \
        j.phase("plugin test-engine-pytest pre-exit hook")
    assert post.get("cut_off") is True and "skipped" in pre_exit
    assert not (job.checkout / "post-finished").exists() and not (job.checkout / "pre-exit-ran").exists()
    assert (j.summary["exit_status"], j.summary["signal"]) == (-1, "SIGKILL")


def test_survivors_of_a_finished_job_are_reported_and_killed(job):
    (job.checkout / "survivor.py").write_text(SURVIVOR)
    j = job("setsid %s survivor.py term up </dev/null >/dev/null 2>&1 & while [ ! -e up ]; do sleep 0.02; done" % PY)
    assert j.status == 0
    assert [("survivor.py" in s["cmdline"]) for s in j.summary["survivors"]] == [True]
    assert "outlived it; killing them" in j.log
    assert not pathlib.Path("/proc/%d" % j.summary["survivors"][0]["pid"]).exists()


def test_a_runaway_job_is_cancelled_by_the_timeout(job):
    started = time.monotonic()
    j = job("sleep 60", (), "--timeout", "1", "--grace-period", "1")
    assert time.monotonic() - started < 10
    assert j.summary["timed_out"] is True and j.summary["cancelled"] is True


# ---------------------------------------------------------------- summary and errors

def test_the_summary_of_a_passing_job(job):
    j = job("echo hello", [({"pre-command": "true\n"},)], "--env", "BUILDKITE_JOB_ID=job-s")
    s = j.summary
    assert (j.status, s["exit_status"], s["status"], s["cancelled"], s["survivors"]) == (0, 0, "passed", False, [])
    assert [p["phase"] for p in s["phases"]] == ["pre-command", "command"]
    assert all(isinstance(p["seconds"], float) and p["exit_status"] == 0 for p in s["phases"])
    assert s["job_id"] == "job-s" and s["pty"] is True and s["command_exit_status"] == "0"


@pytest.mark.parametrize("extra, message", [
    (["--plugin-config", "{}"], "--plugin-config must follow"),
    (["--plugin", "/nonexistent-plugin"], "is not a directory"),
    (["--env", "NOEQUALS"], "is not KEY=VALUE"),
])
def test_runner_errors_exit_125_with_one_line(job, extra, message):
    proc = subprocess.run([PY, RUNNER, "--checkout", str(job.checkout), "--command", "true"] + extra,
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 125
    assert message in proc.stderr
    bad_json = subprocess.run([PY, RUNNER, "--checkout", str(job.checkout), "--command", "true",
                               "--plugin", str(job.checkout), "--plugin-config", "{nope"],
                              capture_output=True, text=True, timeout=30)
    assert bad_json.returncode == 125 and "not valid JSON" in bad_json.stderr

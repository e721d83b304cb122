#!/usr/bin/python3
"""Runs ONE Buildkite job the way the agent's job executor does (stdlib only).

The facts it reproduces are from buildkite/agent (internal/job/executor.go, plugin.go,
hook/wrapper.go, internal/process, agent/plugin/plugin.go, agent/run_job.go); see
shared/reference/buildkite-agent-realities.md. In short:

* plugins are copied (not cloned) to PLUGINS_PATH/AGENT_NAME/<id from the location>, reused
  when present; option variables are named from the repository name, and exist only
  while that plugin's hooks run;
* hooks are SOURCED by a wrapper that dumps the environment before and after; the diff
  (and a `cd`) carries to later phases; a hook that fails or calls `exit` loses its
  changes; protected agent variables cannot be changed;
* phases: pre-command (plugin order; the first failure stops the job, no command, no
  post-command) -> ONE command phase (a plugin `command` hook replaces the step command)
  -> post-command (REVERSE order) -> pre-exit (reverse order, always);
* every process is in its own session on a fresh PTY (the foreground process group), or
  with --no-pty its own process group on pipes;
* cancellation: BUILDKITE_JOB_CANCELLED=true, SIGTERM to the running phase's process
  group, SIGKILL to that group after the grace period if its first process still runs.
  The agent kills the job's bootstrap when the grace period ends, so post-command and
  pre-exit only get what is left of the grace period (a hook still running then is cut
  off: its PTY hangs up) - "pre-exit always runs" is not true after a cancel;
* job exit status as the agent reports it: the command's status (a command killed by a
  signal is -1, which the bootstrap's exit turns into 255), replaced by a failing
  pre-command / post-command hook's status, replaced by a failing pre-exit hook's; -1
  with signal SIGKILL when the bootstrap had to be killed.

Runner-only behaviour, not the agent's: the job's processes carry TEP_JOB_RUNNER_RUN (a
unique marker) so that survivors can be found after the job and killed; the runner is a
child subreaper so orphans stay visible; a whole-job --timeout cancels a runaway job;
--hook-errexit sources every hook with `set -euo pipefail` already on in the wrapper (the
shell options a sourced hook meets are its caller's: a hooks shell with -e, or a user's
hook that set them), so a hook can be tested under both.
Exit status of this script: the job's exit status (0-255; 137 when the agent would have
reported -1/SIGKILL); 125 when the runner itself cannot start the job.
"""
import argparse
import errno
import fcntl
import json
import os
import re
import select
import shlex
import shutil
import signal
import struct
import sys
import tempfile
import termios
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
STUB = os.path.join(HERE, "buildkite-agent-stub")
DEFAULT_REPO = "test-engine-pytest-buildkite-plugin"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SHELL = ["/bin/bash", "-e", "-c"]          # the agent's default `shell` on Linux
PTY_ROWS, PTY_COLS = 100, 160             # internal/process/pty.go
TERM_TYPE = "xterm-256color"              # internal/process/process.go
MARKER = "TEP_JOB_RUNNER_RUN"
# env/protected.go: variables a hook cannot change from within the job.
PROTECTED = {
    "BUILDKITE_AGENT_ACCESS_TOKEN", "BUILDKITE_AGENT_DEBUG", "BUILDKITE_AGENT_ENDPOINT",
    "BUILDKITE_AGENT_JOB_TIMEOUT_FILE", "BUILDKITE_AGENT_PID", "BUILDKITE_BIN_PATH",
    "BUILDKITE_BUILD_PATH", "BUILDKITE_CHECKOUT_OVERRIDE_MODE", "BUILDKITE_COMMAND_EVAL",
    "BUILDKITE_CONFIG_PATH", "BUILDKITE_CONTAINER_COUNT", "BUILDKITE_HOOKS_PATH",
    "BUILDKITE_HOOKS_SHELL", "BUILDKITE_JOB_CONTEXT_DIR", "BUILDKITE_KUBERNETES_EXEC",
    "BUILDKITE_LOCAL_HOOKS_ENABLED", "BUILDKITE_PLUGINS_ENABLED", "BUILDKITE_PLUGINS_PATH",
    "BUILDKITE_SHELL", "BUILDKITE_SSH_KEYSCAN", "BUILDKITE_GIT_CLONE_MIRROR_FLAGS",
    "BUILDKITE_GIT_MIRRORS_LOCK_TIMEOUT", "BUILDKITE_GIT_MIRRORS_PATH",
    "BUILDKITE_GIT_MIRRORS_SKIP_UPDATE", "BUILDKITE_GIT_MIRROR_CHECKOUT_MODE",
    "BUILDKITE_GIT_REMOTE_MIRROR_URL", "BUILDKITE_GIT_SUBMODULE_CLONE_CONFIG",
}
# Written at the top of BUILDKITE_ENV_FILE by agent/job_runner.go (names only).
ENV_FILE_AGENT_NAMES = (
    "BUILDKITE_GIT_CHECKOUT_FLAGS BUILDKITE_ARTIFACT_UPLOAD_CONCURRENCY BUILDKITE_GIT_CLEAN_FLAGS "
    "BUILDKITE_GIT_CLONE_FLAGS BUILDKITE_GIT_CLONE_MIRROR_FLAGS BUILDKITE_GIT_MIRROR_CHECKOUT_MODE "
    "BUILDKITE_GIT_FETCH_FLAGS BUILDKITE_GIT_MIRRORS_LOCK_TIMEOUT BUILDKITE_GIT_MIRRORS_PATH "
    "BUILDKITE_GIT_MIRRORS_SKIP_UPDATE BUILDKITE_GIT_SUBMODULES BUILDKITE_GIT_SUBMODULE_CLONE_CONFIG "
    "BUILDKITE_CHECKOUT_OVERRIDE_MODE BUILDKITE_CANCEL_SIGNAL_TIMEOUT BUILDKITE_CANCEL_CLEANUP_TIMEOUT "
    "BUILDKITE_COMMAND_EVAL BUILDKITE_LOCAL_HOOKS_ENABLED BUILDKITE_PLUGINS_ENABLED "
    "BUILDKITE_REDACTED_VARS BUILDKITE_SHELL BUILDKITE_HOOKS_SHELL BUILDKITE_SSH_KEYSCAN "
    "BUILDKITE_STRICT_SINGLE_HOOKS").split()


class RunnerError(Exception):
    """The runner itself cannot run the job (bad arguments, unreadable plugin): exit 125."""


# ------------------------------------------------------------------ the job log (stdout)

def emit(data):
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def header(text):
    emit(("~~~ %s\n" % text).encode())


def comment(text):
    emit(("# %s\n" % text).encode())


def runner_note(text):
    """The runner's own remarks, marked so nobody mistakes them for the agent's."""
    emit(("# [job_runner] %s\n" % text).encode())


def error(text):
    emit(("\U0001F6A8 Error: %s\n" % text).encode())


def warning(text):
    emit(("\u26A0\uFE0F Warning: %s\n" % text).encode())


# ------------------------------------------------------------------ JSON as Go marshals it

class Number(str):
    """A JSON number kept as its literal text (the agent decodes with UseNumber)."""


def load_config(text, what):
    try:
        value = json.loads(text, parse_int=Number, parse_float=Number)
    except ValueError as e:
        raise RunnerError("%s is not valid JSON (%s)" % (what, e))
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RunnerError("%s must be a JSON object of plugin options" % what)
    return value


def go_json(value):
    """json.Marshal: sorted keys, no spaces, <, > and & escaped, numbers as written."""
    if isinstance(value, Number):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    if isinstance(value, list):
        return "[" + ",".join(go_json(v) for v in value) + "]"
    return "{" + ",".join(go_json(k) + ":" + go_json(value[k]) for k in sorted(value)) + "}"


# ------------------------------------------------------------------ plugins (plugin.go)

def env_key(text):
    """formatEnvKey: upper-cased, - and whitespace become _."""
    return re.sub(r"[-\s]", "_", text.upper())


class Plugin:
    def __init__(self, source, location, config):
        self.source = source
        self.location_text = location
        self.config = config
        # CreatePlugin: Location is the URL's host + path, Version its fragment.
        rest = location.split("://", 1)[1] if "://" in location else location
        self.location, _, self.version = rest.partition("#")
        self.checkout = None

    def name(self):
        """Name(): the last path segment, lower-cased, non-alphanumerics -> -, the
        -buildkite-plugin(-git) suffix removed."""
        last = self.location.replace("\\", "/").rstrip("/").split("/")[-1].lstrip(".")
        name = re.sub(r"[^a-zA-Z0-9]", "-", re.sub(r"\s+", " ", last.lower()))
        return name.replace("-buildkite-plugin-git", "").replace("-buildkite-plugin", "")

    def identifier(self):
        """Identifier(): the label (location#version) as a folder name."""
        label = self.location + ("#" + self.version if self.version else "")
        return re.sub(r"-+", "-", re.sub(r"[^a-zA-Z0-9]", "-", label)).strip("-")

    def environment(self):
        """ConfigurationToEnvironment; on an unsupported value (JSON null) the agent warns
        and passes NO plugin variables at all, not even the name."""
        prefix = "BUILDKITE_PLUGIN_" + env_key(self.name())
        env = {"BUILDKITE_PLUGIN_NAME": env_key(self.name()),
               "BUILDKITE_PLUGIN_CONFIGURATION": go_json(self.config)}
        try:
            flatten(env, self.config, prefix)
        except TypeError as e:
            warning("Error configuring plugin environment: %s" % e)
            return {}
        return env


def flatten(into, value, prefix):
    if isinstance(value, (str, bool)):
        into[prefix] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            flatten(into, item, "%s_%d" % (prefix, i))
    elif isinstance(value, dict):
        for key, item in value.items():
            flatten(into, item, "%s_%s" % (prefix, env_key(key)))
    else:
        raise TypeError("unknown type %s %r" % (type(value).__name__, value))


def copy_plugin(source, dest):
    """A checkout without the VCS and build leftovers of a working tree."""
    def ignore(folder, names):
        top = os.path.abspath(folder) == os.path.abspath(source)
        return [n for n in names if n in (".git", "__pycache__") or (top and n.startswith("build"))]
    tmp = dest + ".partial-%d" % os.getpid()
    shutil.copytree(source, tmp, symlinks=True, ignore=ignore)
    os.rename(tmp, dest)


def checkout_plugin(plugin, plugins_path, agent_name):
    folder = os.path.join(plugins_path, agent_name, plugin.identifier())
    if os.path.isdir(folder):
        comment('Plugin "%s" already checked out' % plugin.location_text)
    else:
        comment('Plugin "%s" will be checked out to "%s"' % (plugin.name(), folder))
        os.makedirs(os.path.dirname(folder), exist_ok=True)
        copy_plugin(plugin.source, folder)
    if not os.path.isdir(os.path.join(folder, "hooks")):
        raise RunnerError('"hooks" was not a directory within the "%s" plugin (%s)' % (plugin.name(), folder))
    plugin.checkout = folder


# ------------------------------------------------------------------ processes

def signal_name(number):
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


def reset_child_signals():
    for sig in (signal.SIGPIPE, signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT,
                signal.SIGCHLD, signal.SIGTTOU, signal.SIGTTIN, signal.SIGTSTP, signal.SIGXFSZ):
        signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])


def exec_child(argv, env, cwd, use_pty, slave, write_end):
    """In the forked child: own session on the PTY (controlling terminal, foreground
    group) or own process group on pipes; then exec. Never returns."""
    try:
        reset_child_signals()
        if use_pty:
            os.setsid()
            fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
            for fd in (0, 1, 2):
                os.dup2(slave, fd)
        else:
            os.setpgid(0, 0)
            devnull = os.open(os.devnull, os.O_RDONLY)
            os.dup2(devnull, 0)
            os.dup2(write_end, 1)
            os.dup2(write_end, 2)
        os.closerange(3, 1 << 16)
        os.chdir(cwd)
        os.execve(argv[0], argv, env)
    except BaseException as e:  # noqa: B036 - nothing may escape a forked child
        try:
            os.write(2, ("job_runner: cannot start %s in %s: %s\n" % (argv[0], cwd, e)).encode())
        finally:
            os._exit(127)


class Process:
    """One phase process and its output stream."""

    def __init__(self, argv, env, cwd, use_pty):
        self.use_pty = use_pty
        slave = write_end = None
        if use_pty:
            self.fd, slave = os.openpty()
            fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", PTY_ROWS, PTY_COLS, 0, 0))
            env = dict(env, TERM=TERM_TYPE)
        else:
            self.fd, write_end = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            exec_child(argv, env, cwd, use_pty, slave, write_end)
        os.close(slave if use_pty else write_end)
        if not use_pty:
            try:
                os.setpgid(self.pid, self.pid)  # the child does it too; whoever is first wins
            except OSError:
                pass
        os.set_blocking(self.fd, False)
        self.status = None          # os.waitpid status once reaped
        self.pending_cr = b""

    def pump(self, timeout):
        """Copies available output to the job log; False once the stream is closed."""
        if self.fd is None:
            return False
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self.fd, 65536)
        except BlockingIOError:
            return True
        except OSError as e:
            if e.errno != errno.EIO:  # EIO: every slave fd is closed
                raise
            data = b""
        if not data:
            self.close_output()
            return False
        self.write_log(data)
        return True

    def write_log(self, data):
        data = self.pending_cr + data
        self.pending_cr = b""
        if self.use_pty:
            if data.endswith(b"\r"):
                data, self.pending_cr = data[:-1], b"\r"
            data = data.replace(b"\r\n", b"\n")
        emit(data)

    def close_output(self):
        if self.fd is not None:
            if self.pending_cr:
                emit(self.pending_cr)
            os.close(self.fd)
            self.fd = None

    def signal_group(self, sig):
        """kill(-pid): the group the phase started in, exactly like terminateProcessGroup."""
        try:
            if os.getpgid(self.pid) != self.pid:
                return False  # the child has not made its group yet
            os.killpg(self.pid, sig)
            return True
        except (ProcessLookupError, PermissionError):
            return self.status is None

    def exit_status(self):
        """shell.ExitCode: the exit code, or -1 when a signal ended the process."""
        if self.status is None:
            return None
        if os.WIFSIGNALED(self.status):
            return -1
        return os.WEXITSTATUS(self.status)

    def exit_signal(self):
        if self.status is not None and os.WIFSIGNALED(self.status):
            return signal_name(os.WTERMSIG(self.status))
        return None


def reap(processes):
    """Reaps every finished child (orphans come to us as a subreaper)."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        for p in processes:
            if p.pid == pid:
                p.status = status


# ------------------------------------------------------------------ cancellation

class Canceller:
    """When the job is cancelled and when the agent's grace period runs out."""

    def __init__(self, args, job_start):
        self.after = args.cancel_after
        self.when_file = args.cancel_when_file
        self.grace = args.grace_period
        self.timeout_at = job_start + args.timeout
        self.command_started = None
        self.at = None              # monotonic time of the cancellation
        self.reason = None
        self.external = False

    def deadline(self):
        return None if self.at is None else self.at + self.grace

    def poll(self, in_command_phase):
        """True when the job has been cancelled (now or before)."""
        if self.at is not None:
            return True
        now = time.monotonic()
        if now >= self.timeout_at:
            self.at, self.reason = now, "timeout"
        elif self.external:
            self.at, self.reason = now, "the runner received a termination signal"
        elif in_command_phase and self.after is not None and now - self.command_started >= self.after:
            self.at, self.reason = now, "--cancel-after"
        elif in_command_phase and self.when_file and os.path.exists(self.when_file):
            self.at, self.reason = now, "--cancel-when-file"
        return self.at is not None


# ------------------------------------------------------------------ hooks (wrapper.go)

def shebang(path):
    try:
        with open(path, "rb") as f:
            first = f.readline(4096).decode("utf-8", "replace").rstrip("\n")
    except OSError:
        return ""
    return first if first.startswith("#!") else ""


def is_posix_shell(line):
    try:
        parts = shlex.split(line[2:])
    except ValueError:
        return False
    if not parts:
        return False
    binary = os.path.basename(parts[0])
    if binary == "env":
        binary = os.path.basename(parts[1]) if len(parts) > 1 else ""
    return binary in ("bash", "dash", "ksh", "sh", "zsh")


def hook_type(path):
    with open(path, "rb") as f:
        if f.read(4) == b"\x7fELF":
            return "binary"
    line = shebang(path)
    return "shell" if not line or is_posix_shell(line) else "script"


def write_wrapper(folder, hook, errexit=False):
    """The agent's POSIX wrapper: env before, source the hook, env after, same status.
    errexit: the sourcing shell has `set -euo pipefail` on (a hooks shell started with -e,
    or a user's hook that turned it on before ours), so a failing command in the hook
    ends the wrapper there, with that command's status."""
    before, after = os.path.join(folder, "before"), os.path.join(folder, "after")
    line = shebang(hook)
    text = ("%s\n%s/usr/bin/env -0 > %s\n. %s\nexport BUILDKITE_HOOK_EXIT_STATUS=$?\n"
            "export BUILDKITE_HOOK_WORKING_DIR=\"${PWD}\"\n/usr/bin/env -0 > %s\n"
            "exit $BUILDKITE_HOOK_EXIT_STATUS\n") % (line, "set -euo pipefail\n" if errexit else "",
                                                      shlex.quote(before), shlex.quote(hook),
                                                      shlex.quote(after))
    wrapper = os.path.join(folder, "hook-script-wrapper")
    with open(wrapper, "w") as f:
        f.write(text.lstrip("\n"))
    os.chmod(wrapper, 0o700)
    open(after, "w").close()
    # A wrapper with a shebang runs directly; without one the agent uses bash.
    return ([wrapper] if line else ["/bin/bash", wrapper]), before, after


def read_env_dump(path):
    with open(path, "rb") as f:
        data = f.read()
    env = {}
    for item in data.split(b"\0"):
        if b"=" in item:
            k, _, v = item.partition(b"=")
            env[k.decode("utf-8", "surrogateescape")] = v.decode("utf-8", "surrogateescape")
    return env, len(data) > 0


def env_diff(before, after):
    added = {k: v for k, v in after.items() if k not in before}
    changed = {k: v for k, v in after.items() if k in before and before[k] != v}
    removed = [k for k in before if k not in after]
    for key in ("BUILDKITE_HOOK_EXIT_STATUS", "BUILDKITE_HOOK_WORKING_DIR", "_"):
        added.pop(key, None)
        changed.pop(key, None)
        if key in removed:
            removed.remove(key)
    return added, changed, removed


# ------------------------------------------------------------------ the job

class Job:
    def __init__(self, args):
        self.args = args
        self.start = time.monotonic()
        self.cancel = Canceller(args, self.start)
        self.cwd = os.path.abspath(args.checkout)
        self.phases = []
        self.bootstrap_killed = False
        self.tmp = tempfile.mkdtemp(prefix="job-runner-")
        self.run_id = uuid.uuid4().hex
        self.plugins = [Plugin(p["source"], p["repo"], p["config"]) for p in args.plugins]
        self.plugins_path = args.plugins_path or os.path.join(self.tmp, "plugins")
        self.agent_dir = self.find_agent_dir()
        self.env = {}

    # -------------------------------------------------------------- environment

    def find_agent_dir(self):
        """--agent-dir, else AGENT_DIR from the job's --env, else from our environment."""
        found = self.args.agent_dir or dict(self.args.env_pairs).get("AGENT_DIR") or os.environ.get("AGENT_DIR")
        return os.path.abspath(found) if found else None

    def build_env(self):
        """What Buildkite sends (--env-file, --env) plus the variables the agent adds."""
        upstream = dict(self.args.env_pairs)
        job_id = upstream.setdefault("BUILDKITE_JOB_ID", str(uuid.uuid4()))
        self.generated_job_id = "BUILDKITE_JOB_ID" not in dict(self.args.env_pairs)
        upstream["BUILDKITE_COMMAND"] = self.args.command
        upstream["BUILDKITE_PLUGINS"] = go_json([{p.location_text: p.config} for p in self.plugins])
        upstream.setdefault("BUILDKITE", "true")
        upstream.setdefault("CI", "true")
        env_file, json_file = self.write_env_files(upstream)
        env = {"PATH": DEFAULT_PATH, "HOME": os.environ.get("HOME", "/root")}
        env.update(upstream)
        if self.agent_dir:
            bin_dir = self.install_stub()
            env["PATH"] = bin_dir + ":" + env["PATH"]
            env["AGENT_DIR"] = self.agent_dir
            env["BUILDKITE_BIN_PATH"] = bin_dir
        env.update({
            "BUILDKITE_ENV_FILE": env_file, "BUILDKITE_ENV_JSON_FILE": json_file,
            "BUILDKITE_BUILD_CHECKOUT_PATH": self.cwd,
            "BUILDKITE_CANCEL_GRACE_PERIOD": format_seconds(self.args.grace_period),
            "BUILDKITE_CANCEL_SIGNAL_TIMEOUT": format_seconds(self.args.grace_period) + "s",
            "BUILDKITE_PLUGINS_PATH": self.plugins_path, "BUILDKITE_AGENT_NAME": self.args.agent_name,
            "BUILDKITE_AGENT_DEBUG": "true" if self.args.debug_agent else "false",
            "BUILDKITE_AGENT_PID": str(os.getpid()), "BUILDKITE_SHELL": " ".join(SHELL),
            "BUILDKITE_AGENT_ACCESS_TOKEN": "job-runner-fake-agent-token-" + self.run_id[:12],
            "BUILDKITE_AGENT_ENDPOINT": "https://agent.buildkite.com/v3",
            "BUILDKITE_PLUGINS_ENABLED": "true", "BUILDKITE_COMMAND_EVAL": "true",
            "BUILDKITE_LOCAL_HOOKS_ENABLED": "true", "BUILDKITE_STRICT_SINGLE_HOOKS": "false",
            MARKER: self.run_id,
        })
        if not self.args.pty:
            env["BUILDKITE_PTY"] = "false"
        self.env = env
        return job_id

    def write_env_files(self, upstream):
        """BUILDKITE_ENV_FILE: the agent's names header, then KEY="value" (Go %q-style
        quoting, not shell quoting); BUILDKITE_ENV_JSON_FILE: one JSON object."""
        env_file = os.path.join(self.tmp, "job-env")
        with open(env_file, "w", encoding="utf-8") as f:
            f.write("\n".join(ENV_FILE_AGENT_NAMES) + "\n")
            for key, value in upstream.items():
                f.write("%s=%s\n" % (key, json.dumps(value, ensure_ascii=False)))
        json_file = os.path.join(self.tmp, "job-env.json")
        with open(json_file, "w", encoding="utf-8") as f:
            json.dump(upstream, f)
        return env_file, json_file

    def install_stub(self):
        bin_dir = os.path.join(self.agent_dir, "bin")
        os.makedirs(bin_dir, exist_ok=True)
        link = os.path.join(bin_dir, "buildkite-agent")
        if not os.path.lexists(link):
            os.symlink(STUB, link)
        return bin_dir

    def register(self):
        """jobs.jsonl: the stub's retry chains include this job from its first second."""
        if not self.agent_dir:
            return
        e = self.env
        record = {"job_id": e["BUILDKITE_JOB_ID"], "step_id": e.get("BUILDKITE_STEP_ID", ""),
                  "step_key": e.get("BUILDKITE_STEP_KEY", ""), "label": e.get("BUILDKITE_LABEL", ""),
                  "parallel_job": e.get("BUILDKITE_PARALLEL_JOB", ""),
                  "retry_count": int(e.get("BUILDKITE_RETRY_COUNT", "0") or "0"),
                  "build_id": e.get("BUILDKITE_BUILD_ID", ""), "registered_by": "job_runner"}
        with open(os.path.join(self.agent_dir, "jobs.jsonl"), "a", encoding="utf-8") as f:
            f.write(json.dumps(record, sort_keys=True) + "\n")

    # -------------------------------------------------------------- running one process

    def run_process(self, argv, env, record, interruptible):
        """Runs one phase process to its end, honouring cancellation. `interruptible`
        phases (pre-command, command) get SIGTERM at the cancel; the others run on the
        agent's grace context and are cut off when the grace period is over."""
        started = time.monotonic()
        proc = Process(argv, env, self.cwd, self.args.pty)
        in_command = record["phase"] == "command"
        term_at = None
        while proc.status is None:
            proc.pump(0.02)
            reap([proc])
            if proc.status is not None or not self.cancel.poll(in_command):
                continue
            self.env["BUILDKITE_JOB_CANCELLED"] = "true"  # Executor.Cancel, for later phases
            if interruptible and term_at is None and proc.signal_group(signal.SIGTERM):
                term_at = time.monotonic()
                record["sigterm_sent"] = True
            now = time.monotonic()
            if not interruptible and now >= self.cancel.deadline():
                self.bootstrap_killed = True
                record["cut_off"] = True
                proc.close_output()  # the bootstrap dies: the hook's PTY hangs up
                break
            # The grace period counts from the SIGTERM the phase itself received.
            if term_at is not None and now >= term_at + self.cancel.grace and not record.get("sigkill_sent"):
                self.bootstrap_killed = True
                record["sigkill_sent"] = proc.signal_group(signal.SIGKILL)
        ended = time.monotonic()
        self.drain(proc)
        record.update(exit_status=proc.exit_status(), signal=proc.exit_signal(),
                      seconds=round(ended - started, 3))
        if term_at is not None:
            record["sigterm_to_end_seconds"] = round(ended - term_at, 3)
        return proc.exit_status()

    def drain(self, proc):
        """Output still buffered, bounded like the agent's 10 s PTY copy wait: a survivor
        holding the terminal open must not hold the job."""
        limit = time.monotonic() + self.args.output_drain_timeout
        while proc.fd is not None and time.monotonic() < limit:
            proc.pump(0.05)
            reap([])
            if self.cancel.at is not None and time.monotonic() >= self.cancel.deadline():
                self.bootstrap_killed = True
                break
        if proc.fd is not None:
            runner_note("output still open %.0fs after the phase ended (a process kept the "
                        "terminal); stopped reading, as the agent does" % self.args.output_drain_timeout)
            proc.close_output()

    def skip_after_cancel(self, record):
        """After a cancel the bootstrap lives until the grace period ends, no longer."""
        if self.bootstrap_killed or (self.cancel.at is not None and time.monotonic() >= self.cancel.deadline()):
            self.bootstrap_killed = True
            record["skipped"] = "the agent killed the job when the cancel grace period ended"
            runner_note("%s not run: %s" % (record["name"], record["skipped"]))
            self.phases.append(record)
            return True
        return False

    # -------------------------------------------------------------- hooks

    def run_hook(self, plugin, phase, interruptible=True):
        """One plugin hook; returns its exit status (0 when the plugin has none)."""
        hook = os.path.join(plugin.checkout, "hooks", phase)
        if not os.path.isfile(hook):
            return None
        name = "plugin %s %s hook" % (plugin.name(), phase)
        record = {"phase": phase, "plugin": plugin.name(), "hook": hook, "name": name}
        if self.skip_after_cancel(record):
            return -1
        header("Running %s" % name)
        emit(("$ %s\n" % hook).encode())
        env = dict(self.env, **plugin.environment())
        kind = hook_type(hook)
        record["type"] = kind
        if kind != "shell":
            status = self.run_process([hook], env, record, interruptible)
        else:
            status = self.run_wrapped(hook, env, record, interruptible)
        self.env["BUILDKITE_LAST_HOOK_EXIT_STATUS"] = str(status if status is not None else -1)
        self.phases.append(record)
        if status:
            error("The %s exited with status %d" % (name, status))
        return status if status is not None else -1

    def run_wrapped(self, hook, env, record, interruptible):
        folder = tempfile.mkdtemp(prefix="buildkite-agent-hook-wrapper", dir=self.tmp)
        argv, before_path, after_path = write_wrapper(folder, hook, self.args.hook_errexit)
        status = self.run_process(argv, env, record, interruptible)
        if status == 0:
            before, _ = read_env_dump(before_path)
            after, complete = read_env_dump(after_path)
            if complete:
                self.apply_changes(env_diff(before, after), after.get("BUILDKITE_HOOK_WORKING_DIR"), record)
            else:
                record["early_exit"] = True
                runner_note("%s exited early (`exit` in a sourced hook): its environment "
                            "changes are lost, as with the agent" % record["name"])
        shutil.rmtree(folder, ignore_errors=True)
        return status

    def apply_changes(self, diff, working_dir, record):
        """applyEnvironmentChanges: the hook's cd, then its variables, protected ones kept."""
        added, changed, removed = diff
        if working_dir and working_dir != self.cwd:
            self.cwd = working_dir
        blocked = sorted(k for k in list(added) + list(changed) + removed if k in PROTECTED)
        if blocked:
            comment("Changes to some env vars were blocked; the affected vars are: [%s]" % " ".join(blocked))
        for key, value in list(added.items()) + list(changed.items()):
            if key not in PROTECTED:
                self.env[key] = value
        for key in removed:
            if key not in PROTECTED:
                self.env.pop(key, None)
        for verb, keys in (("added", added), ("changed", changed), ("removed", removed)):
            for key in sorted(keys):
                if key not in PROTECTED:
                    comment("%s %s" % (key, verb))
        record["env"] = {"added": sorted(added), "changed": sorted(changed), "removed": sorted(removed)}
        if working_dir:
            record["working_dir"] = working_dir

    def run_hooks(self, phase, plugins, interruptible=True):
        """executeHooksForward / Reverse: the first failure stops the others."""
        for plugin in plugins:
            status = self.run_hook(plugin, phase, interruptible)
            if status:
                return status
        return 0

    # -------------------------------------------------------------- the command phase

    def command_hook_plugins(self):
        return [p for p in self.plugins if os.path.isfile(os.path.join(p.checkout, "hooks", "command"))]

    def run_command_phase(self):
        self.cancel.command_started = time.monotonic()
        if self.cancel.at is not None:
            # The agent starts nothing on a cancelled context; the error counts as 1.
            self.phases.append({"phase": "command", "name": "command phase",
                                "skipped": "the job was cancelled before the command phase"})
            return 1
        hooked = self.command_hook_plugins()
        if hooked:
            runner_note('the step command "%s" is NOT run: a plugin command hook replaces it '
                        "(the agent does this without a warning)" % self.args.command)
            status = 0
            for position, plugin in enumerate(hooked):
                if position:
                    warning("The additional command hook (%s plugin, position %d) will be ignored in a "
                            "future version of the agent. To enforce single command hooks now, pass "
                            "the --strict-single-hooks flag, set the environment variable "
                            "BUILDKITE_STRICT_SINGLE_HOOKS=true, or set strict-single-hooks=true in "
                            "your agent configuration" % (plugin.name(), self.plugins.index(plugin) + 1))
                status = self.run_hook(plugin, "command")
                if status:
                    break
            return status
        return self.run_step_command()

    def run_step_command(self):
        record = {"phase": "command", "name": "command phase", "source": "step"}
        command = self.args.command
        if command.strip() == "":
            error("the command phase has no `command` to execute")
            record.update(exit_status=1, seconds=0.0)
            self.phases.append(record)
            return 1
        script = os.path.join(self.cwd, command.replace("\n", ""))
        if os.path.isfile(script):
            os.chmod(script, os.stat(script).st_mode | 0o111)
            header("Running script")
            to_run = "./" + os.path.relpath(script, self.cwd)
        else:
            header("Running commands")
            to_run = command
        emit(("$ %s\n" % to_run).encode())
        status = self.run_process(SHELL + [to_run], self.env, record, True)
        self.phases.append(record)
        return status

    # -------------------------------------------------------------- the whole job

    def run(self):
        for plugin in self.plugins:
            checkout_plugin(plugin, self.plugins_path, self.args.agent_name)
        self.register()
        header("Running job %s" % self.env["BUILDKITE_JOB_ID"])
        phase_error = self.command_phases()
        status = phase_error if phase_error is not None else command_status(self.env)
        exit_status = self.pre_exit(status)
        return exit_status

    def command_phases(self):
        """CommandPhase: returns a hook failure's status, or None (the command's then)."""
        failed = self.run_hooks("pre-command", self.plugins)
        if failed:
            for name in ("command phase", "post-command hooks"):
                self.phases.append({"phase": name.split()[0], "name": name,
                                    "skipped": "a pre-command hook failed"})
            return failed
        status = self.run_command_phase()
        self.env["BUILDKITE_COMMAND_EXIT_STATUS"] = str(status)
        if status and status != -1:
            error("The command exited with status %d" % status)
        elif status == -1:
            error("The command was interrupted by a signal")
        failed = self.run_hooks("post-command", list(reversed(self.plugins)), interruptible=False)
        return failed or None

    def pre_exit(self, status):
        failed = self.run_hooks("pre-exit", list(reversed(self.plugins)), interruptible=False)
        return failed if failed else status


def command_status(env):
    """The agent reads BUILDKITE_COMMAND_EXIT_STATUS back from the job environment (so a
    post-command hook that exports it changes the job's status)."""
    try:
        return int(env.get("BUILDKITE_COMMAND_EXIT_STATUS", "0"))
    except ValueError:
        return 0


def format_seconds(value):
    return ("%g" % value)


# ------------------------------------------------------------------ survivors

def become_subreaper():
    """PR_SET_CHILD_SUBREAPER: orphans of the job are re-parented to the runner, so they
    stay visible as descendants (and are reaped by us, not by init)."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(36, 1, 0, 0, 0)


def proc_stat(pid):
    """(state, ppid, pgrp, session) from /proc/<pid>/stat; the name may hold spaces."""
    with open("/proc/%d/stat" % pid, "rb") as f:
        text = f.read().decode("utf-8", "replace")
    fields = text[text.rindex(")") + 2:].split()
    return fields[0], int(fields[1]), int(fields[2]), int(fields[3])


def proc_environ(pid):
    with open("/proc/%d/environ" % pid, "rb") as f:
        return f.read().split(b"\0")


def proc_cmdline(pid):
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        return f.read().rstrip(b"\0").replace(b"\0", b" ").decode("utf-8", "replace")


def process_table():
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                table[int(entry)] = proc_stat(int(entry))
            except (OSError, ValueError):
                pass
    return table


def ancestors_of(pid, table):
    seen = set()
    while pid in table and pid not in seen and pid > 1:
        seen.add(pid)
        pid = table[pid][1]
    return seen


def find_survivors(job_id, run_id, match_job_id):
    """This job's processes still alive: our descendants, anything carrying the run
    marker, and anything carrying the job's BUILDKITE_JOB_ID when that id is ours alone."""
    me = os.getpid()
    table = process_table()
    mine = ancestors_of(me, table) | {me}
    needles = {("%s=%s" % (MARKER, run_id)).encode()}
    if match_job_id:
        needles.add(("BUILDKITE_JOB_ID=%s" % job_id).encode())
    found = []
    for pid, (state, ppid, pgrp, session) in sorted(table.items()):
        if pid in mine or state == "Z":
            continue
        descendant = me in ancestors_of(ppid, table) or ppid == me
        try:
            carries = bool(needles & set(proc_environ(pid)))
            cmdline = proc_cmdline(pid)
        except OSError:
            continue
        if descendant or carries:
            found.append({"pid": pid, "ppid": ppid, "pgid": pgrp, "sid": session, "cmdline": cmdline})
    return found


def kill_survivors(survivors):
    for s in survivors:
        try:
            os.kill(s["pid"], signal.SIGKILL)
        except ProcessLookupError:
            pass
    limit = time.monotonic() + 5
    while time.monotonic() < limit:
        reap([])
        alive = [s for s in survivors if os.path.exists("/proc/%d" % s["pid"])
                 and proc_state(s["pid"]) not in ("Z", None)]
        if not alive:
            return
        time.sleep(0.02)


def proc_state(pid):
    try:
        return proc_stat(pid)[0]
    except (OSError, ValueError):
        return None


# ------------------------------------------------------------------ summary and CLI

def job_outcome(job, status):
    """(status the agent reports, signal, runner exit status)."""
    if job.bootstrap_killed:
        return -1, "SIGKILL", 128 + signal.SIGKILL
    reported = status & 0xFF   # the bootstrap exits with it: -1 becomes 255
    return reported, None, reported


def write_summary(path, job, status, survivors, seconds):
    reported, sig, runner_status = job_outcome(job, status)
    cancelled = job.cancel.at is not None
    summary = {
        "job_id": job.env.get("BUILDKITE_JOB_ID"), "exit_status": reported, "signal": sig,
        "signal_reason": "cancel" if cancelled else None, "runner_exit_status": runner_status,
        "command_exit_status": job.env.get("BUILDKITE_COMMAND_EXIT_STATUS"),
        "status": "canceled" if cancelled else ("passed" if reported == 0 else "failed"),
        "cancelled": cancelled, "timed_out": job.cancel.reason == "timeout",
        "cancel": {"reason": job.cancel.reason, "grace_period": job.args.grace_period,
                   "at_seconds": round(job.cancel.at - job.start, 3) if cancelled else None,
                   "bootstrap_killed": job.bootstrap_killed},
        "phases": [{k: v for k, v in p.items() if not k.startswith("_")} for p in job.phases],
        "survivors": survivors, "seconds": round(seconds, 3), "pty": job.args.pty,
        "plugins": [{"name": p.name(), "env_prefix": "BUILDKITE_PLUGIN_%s_" % env_key(p.name()),
                     "location": p.location_text, "checkout": p.checkout} for p in job.plugins],
        "env_file": job.env.get("BUILDKITE_ENV_FILE"), "working_dir": job.cwd,
    }
    with open(path, "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=2, sort_keys=True)
        f.write("\n")


class PluginAction(argparse.Action):
    def __call__(self, parser, namespace, value, option_string=None):
        plugins = getattr(namespace, "plugins", None) or []
        if option_string == "--plugin":
            source, _, repo = value.partition("=")
            plugins.append({"source": source, "repo": repo or DEFAULT_REPO, "config": None})
        else:
            if not plugins or plugins[-1]["config"] is not None:
                raise RunnerError("--plugin-config must follow the --plugin it configures (once)")
            plugins[-1]["config"] = load_config(value, "--plugin-config for %s" % plugins[-1]["source"])
        namespace.plugins = plugins


def read_env_file(path):
    pairs = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            key, sep, value = line.partition("=")
            if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
                raise RunnerError("--env-file %s line %d is not KEY=VALUE: %r" % (path, number, line))
            pairs.append((key, value))
    return pairs


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise RunnerError(message)


def parse_args(argv):
    p = Parser(description="Run one Buildkite job like the agent's job executor.")
    p.add_argument("--checkout", required=True, help="the job's checkout (working directory)")
    p.add_argument("--command", required=True, help="the step's command")
    p.add_argument("--plugin", action=PluginAction, metavar="SOURCE_DIR[=REPO_NAME]",
                   help="a plugin working tree and the repository/location it stands for")
    p.add_argument("--plugin-config", action=PluginAction, metavar="JSON",
                   help="options of the preceding --plugin")
    p.add_argument("--plugins-path", help="the agent's plugins-path (default: a fresh temporary one)")
    p.add_argument("--agent-name", default="job-runner-agent-1")
    p.add_argument("--agent-dir", help="the stub's store (default $AGENT_DIR); its bin/ goes on PATH")
    p.add_argument("--env", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--env-file", metavar="FILE")
    p.add_argument("--pty", dest="pty", action="store_true", default=True)
    p.add_argument("--no-pty", dest="pty", action="store_false")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--cancel-after", type=float, metavar="SECONDS")
    group.add_argument("--cancel-when-file", metavar="PATH")
    p.add_argument("--grace-period", type=float, metavar="SECONDS")
    p.add_argument("--timeout", type=float, default=600.0, help="whole-job limit (default 600 s)")
    p.add_argument("--output-drain-timeout", type=float, default=10.0,
                   help="how long output is read after a phase ends (the agent: 10 s)")
    p.add_argument("--summary", metavar="FILE")
    p.add_argument("--debug-agent", action="store_true")
    p.add_argument("--hook-errexit", action="store_true",
                   help="source hooks with `set -euo pipefail` on in the wrapper shell")
    args = p.parse_args(argv)
    if not getattr(args, "plugins", None):
        args.plugins = []
    for plugin in args.plugins:
        plugin["config"] = plugin["config"] if plugin["config"] is not None else {}
        if not os.path.isdir(plugin["source"]):
            raise RunnerError("--plugin %s is not a directory" % plugin["source"])
    if not os.path.isdir(args.checkout):
        raise RunnerError("--checkout %s is not a directory" % args.checkout)
    pairs = read_env_file(args.env_file) if args.env_file else []
    for item in args.env:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise RunnerError("--env %r is not KEY=VALUE" % item)
        pairs.append((key, value))
    args.env_pairs = pairs
    if args.grace_period is None:
        args.grace_period = float(dict(pairs).get("BUILDKITE_CANCEL_GRACE_PERIOD")
                                  or os.environ.get("BUILDKITE_CANCEL_GRACE_PERIOD") or "10")
    return args


def main(argv):
    job = None
    try:
        args = parse_args(argv)
        job = Job(args)
        job_id = job.build_env()
    except (RunnerError, OSError, ValueError) as e:
        sys.stderr.write("job_runner: error: %s\n" % e)
        if job is not None:
            shutil.rmtree(job.tmp, ignore_errors=True)
        return 125
    become_subreaper()

    def on_signal(signum, frame):
        job.cancel.external = True
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    status, runner_failed = 125, True
    try:
        status = job.run()
        runner_failed = False
    except (RunnerError, OSError) as e:
        sys.stderr.write("job_runner: error: %s\n" % e)
        job.phases.append({"phase": "setup", "name": "plugin checkout", "error": str(e)})
    finally:
        seconds = time.monotonic() - job.start
        # Matching on BUILDKITE_JOB_ID is safe unless our caller (a bats test that
        # exported the job's environment) carries the same id.
        survivors = find_survivors(job_id, job.run_id, job.generated_job_id
                                   or os.environ.get("BUILDKITE_JOB_ID") != job_id)
        if survivors:
            runner_note("%d process(es) of this job outlived it; killing them: %s"
                        % (len(survivors), ", ".join("%d (%s)" % (s["pid"], s["cmdline"][:60])
                                                     for s in survivors)))
            kill_survivors(survivors)
        if args.summary:
            write_summary(args.summary, job, status, survivors, seconds)
        shutil.rmtree(job.tmp, ignore_errors=True)
    return 125 if runner_failed else job_outcome(job, status)[2]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Running a manifest command: own process group, time limit, cancel, bounded log, clean env.

The command's stdout and stderr go to one pipe that is read with a selector in the calling
thread, so there is no reader thread to leak and nothing can block: a grandchild that keeps
the pipe open after the command exits is killed with the rest of the process group, and
the pipe is drained for at most ``drain_s`` seconds after that.

Only the first ``head_bytes`` and the last ``tail_bytes`` of the output are kept, in memory
and on disk; the bytes in between are counted and replaced by a marker line.
"""

from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "BoundedLog",
    "CommandResult",
    "LogSnapshot",
    "run_command",
    "safe_environment",
]

_ALLOWED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "USER")
_SECRET_WORDS = re.compile(r"SECRET|TOKEN|PASSWORD|PASSWD|KEY|CREDENTIAL", re.IGNORECASE)
# Named explicitly as well, in case one is ever renamed to something the pattern misses.
_SECRET_NAMES = frozenset({"DJANGO_SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL"})
_DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"
_READ_SIZE = 64 * 1024


@dataclass(frozen=True)
class LogSnapshot:
    """The log so far, as handed to ``on_progress``."""

    head: str
    tail: str
    bytes_total: int
    bytes_omitted: int
    elapsed_s: float

    @property
    def text(self) -> str:
        return _join(self.head, self.tail, self.bytes_omitted)


@dataclass(frozen=True)
class CommandResult:
    exit_code: int | None  # negative: killed by that signal; None: never started
    timed_out: bool
    cancelled: bool
    duration_s: float
    log_text: str
    bytes_total: int
    bytes_omitted: int

    @property
    def succeeded(self) -> bool:
        return self.exit_code == 0 and not self.timed_out and not self.cancelled


class BoundedLog:
    """Keeps the first ``head_bytes`` and the last ``tail_bytes`` of a byte stream."""

    def __init__(self, head_bytes: int, tail_bytes: int) -> None:
        if head_bytes < 0 or tail_bytes < 0:
            raise ValueError("head_bytes and tail_bytes must be >= 0")
        self.head_bytes = head_bytes
        self.tail_bytes = tail_bytes
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def write(self, data: bytes) -> None:
        self.total += len(data)
        room = self.head_bytes - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if not data or self.tail_bytes == 0:
            return
        if len(data) >= self.tail_bytes:
            self.tail[:] = data[-self.tail_bytes :]
        else:
            self.tail += data
            excess = len(self.tail) - self.tail_bytes
            if excess > 0:
                del self.tail[:excess]

    @property
    def omitted(self) -> int:
        return self.total - len(self.head) - len(self.tail)

    def snapshot(self, elapsed_s: float) -> LogSnapshot:
        return LogSnapshot(
            head=self.head.decode("utf-8", "replace"),
            tail=self.tail.decode("utf-8", "replace"),
            bytes_total=self.total,
            bytes_omitted=self.omitted,
            elapsed_s=elapsed_s,
        )

    def text(self) -> str:
        return _join(
            self.head.decode("utf-8", "replace"),
            self.tail.decode("utf-8", "replace"),
            self.omitted,
        )


def _join(head: str, tail: str, omitted: int) -> str:
    if omitted <= 0:
        return head + tail
    newline = "" if not head or head.endswith("\n") else "\n"
    return f"{head}{newline}... [{omitted:,} bytes omitted] ...\n{tail}"


def safe_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """An environment for a manifest command that carries none of ewsdash's secrets.

    Starts from a short allowlist of the worker's variables, puts the worker's Python first
    on PATH (so ``python`` has numpy and pyarrow), and adds ``extra`` (``EWSDASH_ARTIFACTS``
    and the like). A name in ``extra`` that looks like a secret raises ValueError: a staging
    check must not be handed credentials.
    """
    env: dict[str, str] = {}
    for name in _ALLOWED_ENV:
        value = os.environ.get(name)
        if value is not None and not _looks_secret(name):
            env[name] = value
    # Links resolved: the sandbox mounts the virtualenv at its real path.
    python_bin = str(Path(sys.executable).parent.resolve())
    env["PATH"] = os.pathsep.join([python_bin, env.get("PATH", _DEFAULT_PATH)])
    # Streaming the log to the page is pointless if Python buffers 8 KiB at a time.
    env["PYTHONUNBUFFERED"] = "1"
    for name, value in (extra or {}).items():
        if _looks_secret(name):
            raise ValueError(f"refusing to pass {name!r} to a check: it looks like a secret")
        env[name] = str(value)
    return env


def _looks_secret(name: str) -> bool:
    return name.upper() in _SECRET_NAMES or bool(_SECRET_WORDS.search(name))


def run_command(
    argv_or_shell: str,
    *,
    cwd: Path,
    timeout: float,
    log_path: Path,
    head_bytes: int = 64 * 1024,
    tail_bytes: int = 256 * 1024,
    env: Mapping[str, str] | None = None,
    wrapper: Sequence[str] = (),
    should_cancel: Callable[[], bool] = lambda: False,
    on_progress: Callable[[LogSnapshot], None] | None = None,
    poll_interval: float = 0.5,
    kill_grace: float = 2.0,
    drain_s: float = 1.0,
) -> CommandResult:
    """Run a shell line with ``/bin/sh -c`` in its own session and wait for it.

    On time-out or cancel the whole process group gets SIGTERM, then SIGKILL after
    ``kill_grace`` seconds. When the command ends by itself, whatever it left running in
    its group is ended the same way, so no check leaves processes behind. ``env`` defaults
    to :func:`safe_environment`. ``wrapper`` is put before ``/bin/sh -c`` (the sandbox's
    ``bwrap ... --``; it must end the command's processes when it is killed). The bounded
    log is written to ``log_path`` at the end.
    ``on_progress`` gets a snapshot at most every ``poll_interval`` seconds when there is
    new output; ``should_cancel`` is asked at the same pace.
    """
    log = BoundedLog(head_bytes, tail_bytes)
    started = time.monotonic()
    deadline = started + max(0.0, timeout)
    timed_out = cancelled = False
    log_path.parent.mkdir(parents=True, exist_ok=True)

    try:
        proc = subprocess.Popen(
            [*wrapper, "/bin/sh", "-c", argv_or_shell],
            cwd=cwd,
            env=dict(env) if env is not None else safe_environment(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    except OSError as exc:
        # A missing cwd or an exhausted process table is the worker's problem, not the
        # candidate's; the caller records it with the log text.
        log.write(f"ewsdash: could not start the command: {exc}\n".encode())
        return _finish(log, log_path, None, False, False, started)

    assert proc.stdout is not None
    pipe = proc.stdout
    selector = selectors.DefaultSelector()
    selector.register(pipe, selectors.EVENT_READ)
    pipe_open = True
    last_tick = started
    reported_total = -1
    exited_at: float | None = None
    try:
        while True:
            now = time.monotonic()
            wait = max(0.0, min(poll_interval - (now - last_tick), poll_interval))
            if pipe_open:
                for _key, _events in selector.select(timeout=wait):
                    data = os.read(pipe.fileno(), _READ_SIZE)
                    if data:
                        log.write(data)
                    else:
                        selector.unregister(pipe)
                        pipe_open = False
            elif proc.poll() is None:
                try:
                    proc.wait(timeout=wait)
                except subprocess.TimeoutExpired:
                    pass

            now = time.monotonic()
            if exited_at is None and proc.poll() is not None:
                exited_at = now
                _kill_group(proc.pid, signal.SIGKILL)  # leftovers of a finished command
            if exited_at is not None and (not pipe_open or now - exited_at > drain_s):
                break
            if exited_at is None and now >= deadline:
                timed_out = True
                _stop(proc, kill_grace)
                continue
            if now - last_tick >= poll_interval:
                last_tick = now
                if exited_at is None and should_cancel():
                    cancelled = True
                    _stop(proc, kill_grace)
                    continue
                if on_progress is not None and log.total != reported_total:
                    reported_total = log.total
                    on_progress(log.snapshot(now - started))
    finally:
        if proc.poll() is None:
            _stop(proc, kill_grace)
        _kill_group(proc.pid, signal.SIGKILL)
        selector.close()
        pipe.close()
        proc.wait()

    exit_code = proc.returncode
    if timed_out:
        log.write(f"\newsdash: timed out after {timeout:g}s; process group killed\n".encode())
    elif cancelled:
        log.write(b"\newsdash: cancelled; process group killed\n")
    return _finish(log, log_path, exit_code, timed_out, cancelled, started)


def _finish(
    log: BoundedLog,
    log_path: Path,
    exit_code: int | None,
    timed_out: bool,
    cancelled: bool,
    started: float,
) -> CommandResult:
    text = log.text()
    log_path.write_text(text, encoding="utf-8")
    return CommandResult(
        exit_code=exit_code,
        timed_out=timed_out,
        cancelled=cancelled,
        duration_s=time.monotonic() - started,
        log_text=text,
        bytes_total=log.total,
        bytes_omitted=max(0, log.omitted),
    )


def _stop(proc: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM the process group, give it ``grace`` seconds, then SIGKILL it; reap the leader."""
    _kill_group(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        pass
    # Children may ignore SIGTERM even when the shell itself has gone.
    _kill_group(proc.pid, signal.SIGKILL)
    proc.wait()


def _kill_group(pgid: int, sig: signal.Signals) -> None:
    # start_new_session makes the shell a session and group leader, so its pid is the pgid.
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass

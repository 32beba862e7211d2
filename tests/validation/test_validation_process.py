from __future__ import annotations

import os
import resource
import sys
import time
from pathlib import Path

import pytest

from monitoring.validation.process import (
    BoundedLog,
    LogSnapshot,
    run_command,
    safe_environment,
)


def gone(pid: int) -> bool:
    """True when the process no longer exists or is a zombie nobody reaped yet."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")


def wait_gone(pid: int, within: float = 15.0) -> bool:
    """Poll until the process is gone (15 s: a loaded machine reaps slowly; a survivor
    still fails)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if gone(pid):
            return True
        time.sleep(0.05)
    return gone(pid)


def test_exit_code_and_output(tmp_path: Path) -> None:
    log = tmp_path / "log.txt"
    result = run_command(
        "echo hello; echo oops >&2; exit 3", cwd=tmp_path, timeout=10, log_path=log
    )
    assert result.exit_code == 3 and not result.timed_out and not result.cancelled
    assert "hello" in result.log_text and "oops" in result.log_text
    assert log.read_text() == result.log_text
    assert result.bytes_omitted == 0 and result.bytes_total == len("hello\noops\n")


def test_runs_in_cwd(tmp_path: Path) -> None:
    (tmp_path / "marker.txt").write_text("here")
    result = run_command("cat marker.txt", cwd=tmp_path, timeout=10, log_path=tmp_path / "l")
    assert result.exit_code == 0 and result.log_text == "here"


def test_timeout_kills_children_and_grandchildren(tmp_path: Path) -> None:
    # The grandchild ignores SIGTERM, so only the SIGKILL of the whole group ends it.
    command = (
        "sh -c 'trap \"\" TERM; sleep 60 & echo $! > grandchild.pid; wait' & "
        "echo $! > child.pid; wait"
    )
    started = time.monotonic()
    result = run_command(
        command,
        cwd=tmp_path,
        timeout=0.5,
        log_path=tmp_path / "log",
        kill_grace=0.3,
        poll_interval=0.05,
    )
    assert result.timed_out and result.exit_code is not None and result.exit_code != 0
    assert time.monotonic() - started < 5
    assert "timed out" in result.log_text
    for name in ("child.pid", "grandchild.pid"):
        pid = int((tmp_path / name).read_text())
        assert wait_gone(pid), f"{name} {pid} survived"


def test_background_leftovers_do_not_hang_a_finished_command(tmp_path: Path) -> None:
    # `sleep` keeps the output pipe open after the shell has exited.
    started = time.monotonic()
    result = run_command(
        "sleep 30 & echo $! > bg.pid; echo done",
        cwd=tmp_path,
        timeout=20,
        log_path=tmp_path / "log",
        drain_s=0.2,
    )
    assert result.exit_code == 0 and "done" in result.log_text
    assert time.monotonic() - started < 5
    assert wait_gone(int((tmp_path / "bg.pid").read_text()))


def test_cancel_stops_a_running_command(tmp_path: Path) -> None:
    started = time.monotonic()
    result = run_command(
        "echo started; sleep 30 & echo $! > bg.pid; wait",
        cwd=tmp_path,
        timeout=60,
        log_path=tmp_path / "log",
        should_cancel=lambda: time.monotonic() - started > 0.3,
        poll_interval=0.05,
        kill_grace=0.5,
    )
    assert result.cancelled and not result.timed_out
    assert result.duration_s < 5
    assert "started" in result.log_text and "cancelled" in result.log_text
    assert wait_gone(int((tmp_path / "bg.pid").read_text()))


def test_200_megabytes_of_output_keep_a_bounded_log(tmp_path: Path) -> None:
    log = tmp_path / "log.txt"
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    total = 200_000_000
    result = run_command(
        f"head -c {total} /dev/zero | tr '\\0' 'x'; echo; echo THE-END",
        cwd=tmp_path,
        timeout=60,
        log_path=log,
        head_bytes=1000,
        tail_bytes=4000,
    )
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert result.exit_code == 0
    assert result.bytes_total == total + len("\nTHE-END\n")
    assert result.bytes_omitted == result.bytes_total - 5000
    assert f"[{result.bytes_omitted:,} bytes omitted]" in result.log_text
    assert result.log_text.endswith("THE-END\n")
    assert log.stat().st_size <= 1000 + 4000 + 100
    assert (after - before) * 1024 < 50_000_000  # ru_maxrss is in KiB on Linux


def test_progress_is_reported_and_rate_limited(tmp_path: Path) -> None:
    snapshots: list[tuple[float, LogSnapshot]] = []
    command = "for i in 1 2 3 4 5 6; do echo line $i; sleep 0.1; done"
    run_command(
        command,
        cwd=tmp_path,
        timeout=10,
        log_path=tmp_path / "log",
        poll_interval=0.2,
        on_progress=lambda s: snapshots.append((time.monotonic(), s)),
    )
    assert 1 <= len(snapshots) <= 5
    gaps = [b[0] - a[0] for a, b in zip(snapshots, snapshots[1:], strict=False)]
    assert all(gap >= 0.15 for gap in gaps)
    assert snapshots[0][1].text.startswith("line 1")
    totals = [s.bytes_total for _, s in snapshots]
    assert totals == sorted(totals)


def test_environment_carries_no_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DJANGO_SECRET_KEY", "django-insecure-xyz")
    monkeypatch.setenv("DATABASE_URL", "postgres://u:pw@db/ews")
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://:pw@redis:6379/0")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_abc")
    monkeypatch.setenv("HOME", str(tmp_path))
    env = safe_environment({"EWSDASH_ARTIFACTS": str(tmp_path / "art")})
    result = run_command(
        "env; command -v python", cwd=tmp_path, timeout=10, log_path=tmp_path / "log", env=env
    )
    text = result.log_text
    for secret in (
        "DJANGO_SECRET_KEY",
        "DATABASE_URL",
        "CELERY_BROKER_URL",
        "GITHUB_TOKEN",
        "django-insecure",
        "ghp_abc",
        "pw@",
    ):
        assert secret not in text
    assert f"EWSDASH_ARTIFACTS={tmp_path / 'art'}" in text
    assert f"HOME={tmp_path}" in text
    # PATH leads to the worker's Python with links resolved (the sandbox mounts the real path).
    python_bin = str(Path(sys.executable).parent.resolve())
    assert text.strip().splitlines()[-1].startswith(python_bin)


def test_default_environment_is_the_safe_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DJANGO_SECRET_KEY", "django-insecure-xyz")
    result = run_command("env", cwd=tmp_path, timeout=10, log_path=tmp_path / "log")
    assert "DJANGO_SECRET_KEY" not in result.log_text and "PATH=" in result.log_text


def test_secret_looking_extra_is_refused() -> None:
    with pytest.raises(ValueError, match="secret"):
        safe_environment({"AWS_SECRET_ACCESS_KEY": "x"})


def test_a_missing_folder_is_reported_not_raised(tmp_path: Path) -> None:
    result = run_command("true", cwd=tmp_path / "nope", timeout=5, log_path=tmp_path / "log")
    assert result.exit_code is None and "could not start" in result.log_text


def test_bounded_log_keeps_head_and_tail() -> None:
    log = BoundedLog(4, 6)
    for piece in (b"ab", b"cdef", b"ghijkl", b"mn", b"op"):
        log.write(piece)
    assert bytes(log.head) == b"abcd" and bytes(log.tail) == b"klmnop"
    assert log.total == 16 and log.omitted == 6
    assert log.text() == "abcd\n... [6 bytes omitted] ...\nklmnop"


def test_no_process_is_left_after_a_normal_run(tmp_path: Path) -> None:
    result = run_command("echo $$ > sh.pid", cwd=tmp_path, timeout=5, log_path=tmp_path / "l")
    assert result.exit_code == 0
    assert gone(int((tmp_path / "sh.pid").read_text()))
    assert os.getpgrp() != int((tmp_path / "sh.pid").read_text())

"""Each attack of issue 11, as a real hostile check in a real bwrap sandbox.

On main (no sandbox) every one of these succeeded: the push landed at the origin, the
secret was printed into the log, the hook was planted in the cache clone, the stored
artifact was overwritten, the `setsid` process outlived its check, 127.0.0.1 answered.
"""

from __future__ import annotations

import hashlib
import socket
import threading
from pathlib import Path

import pytest
from django.conf import settings

from monitoring.models import Artifact
from releases.clones import clone_dir
from tests.sandbox.conftest import hostile, needs_bwrap, validate_inline
from tests.support.processes import processes_with

pytestmark = [needs_bwrap]

SECRET = "s3cret-marker-7f1c2a"


def check_of(run):
    check = run.checks.get()
    return check


def test_a_check_cannot_push_to_the_origin(registered, world, no_enqueue):
    refs = [
        "for-each-ref",
        "--format=%(refname) %(objectname)",
        "refs/tags",
        "refs/heads/production",
    ]
    before = world.origin_git(*refs)
    clone = clone_dir(registered.name)
    run = validate_inline(
        registered,
        world,
        hostile(
            "push",
            f"""
            git init -q . ; git add -A ; git -c user.name=x -c user.email=x@x commit -qm evil
            git push -f origin HEAD:production && echo PUSHED-ORIGIN
            git push -f {world.origin} HEAD:refs/heads/production && echo PUSHED-PATH
            git push {world.origin} HEAD:refs/tags/v9.9.9 && echo PUSHED-TAG
            git --git-dir={clone} push -f origin HEAD:production && echo PUSHED-CLONE
            ls -d {world.origin} {clone} || true
            exit 0
            """,
        ),
    )
    check = check_of(run)
    after = world.origin_git(*refs)
    assert after == before  # nothing moved, no tag v9.9.9
    assert "PUSHED" not in check.log
    assert "No such file or directory" in check.log
    assert not (Path(world.origin) / "refs" / "tags" / "v9.9.9").exists()


def test_a_check_cannot_read_ewsdash_environment(registered, world, no_enqueue, monkeypatch):
    # The worker (this process, running the check inline) holds the secrets.
    monkeypatch.setenv("DJANGO_SECRET_KEY", SECRET)
    monkeypatch.setenv("DATABASE_URL", f"postgresql://ewsdash:{SECRET}@db/ewsdash")
    run = validate_inline(
        registered,
        world,
        hostile(
            "environ",
            """
            for f in /proc/*/environ; do tr '\\0' '\\n' < "$f"; done
            env; ls /proc; cat /proc/1/cmdline
            exit 0
            """,
        ),
    )
    check = check_of(run)
    assert check.status == "passed", check.summary
    assert SECRET not in check.log
    assert "DJANGO_SECRET_KEY" not in check.log
    assert "EWSDASH_CHECK=environ" in check.log  # it did print its own environment


def test_a_check_cannot_write_outside_its_folders(registered, world, no_enqueue):
    # An artifact of another repository, already in the store.
    other = Path(settings.EWSDASH_ARTIFACTS_DIR) / "seed.txt"
    other.parent.mkdir(parents=True, exist_ok=True)
    other.write_text("drift: failed\n")
    from monitoring import artifacts

    stored = artifacts.artifact_store(other)
    stored_path = artifacts.artifact_path(stored.sha256)
    clone = clone_dir(registered.name)
    hook = clone / "hooks" / "pre-push"
    var = Path(settings.VAR_DIR)
    run = validate_inline(
        registered,
        world,
        hostile(
            "escape",
            f"""
            printf '#!/bin/sh\\ntouch /tmp/hooked\\n' > {hook} && echo WROTE-HOOK
            git --git-dir={clone} config core.hooksPath /tmp && echo WROTE-CONFIG
            chmod u+w {stored_path}; echo 'drift: passed' > {stored_path} && echo WROTE-ARTIFACT
            echo x > {var}/pwned && echo WROTE-VAR
            echo x > ../../pwned-parent && echo WROTE-PARENT
            echo x > /usr/pwned && echo WROTE-USR
            echo x > {{artifacts}}/own.txt && echo WROTE-OWN
            echo x > {{worktree}}/scratch.txt && echo WROTE-TREE
            exit 0
            """,
        ),
    )
    check = check_of(run)
    assert "WROTE-OWN" in check.log and "WROTE-TREE" in check.log
    for marker in ("HOOK", "CONFIG", "ARTIFACT", "VAR", "PARENT", "USR"):
        assert f"WROTE-{marker}" not in check.log, check.log
    assert not hook.exists()
    assert "hooksPath" not in (clone / "config").read_text()
    assert hashlib.sha256(stored_path.read_bytes()).hexdigest() == stored.sha256
    assert not (var / "pwned").exists()
    assert not Path("/usr/pwned").exists()
    assert [a.name for a in check.artifacts.all()] == ["own.txt"]
    assert Artifact.objects.filter(sha256=stored.sha256).exists()


def test_the_tree_is_an_export_not_linked_to_the_clone(registered, world, no_enqueue):
    run = validate_inline(
        registered,
        world,
        hostile("tree", "test ! -e .git && test -f README.md && pwd && git status"),
    )
    check = check_of(run)
    assert check.status == "failed"  # `git status`: not a git repository
    assert "/sandbox/tree" in check.log
    assert "not a git repository" in check.log


# Committed transactions: the heartbeat thread (its own connection) must see the claim.
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("how", "timeout", "tail", "status"),
    [("normal end", "1m", "exit 0", "passed"), ("timeout", "2s", "sleep 60", "timed_out")],
)
def test_no_process_outlives_its_check(registered, world, no_enqueue, how, timeout, tail, status):
    marker = "31" + str(abs(hash(how)) % 10000)
    run = validate_inline(
        registered,
        world,
        hostile(
            "orphans",
            f"""
            setsid sleep {marker} < /dev/null > /dev/null 2>&1 &
            (setsid nohup sleep {marker}1 < /dev/null > /dev/null 2>&1 &)
            sleep 0.2; echo started
            {tail}
            """,
            timeout=timeout,
        ),
        message=f"ci: orphans ({how})",
    )
    check = check_of(run)
    assert check.status == status, check.summary
    assert "started" in check.log
    assert processes_with(f"sleep {marker}") == []


class Listener:
    """A TCP server on the host's 127.0.0.1 that counts the connections it accepted."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self.stopped.set()
        self.thread.join()
        self.sock.close()


@pytest.mark.parametrize("allowed", [False, True])
def test_the_network_is_off_unless_an_admin_allows_it(registered, world, no_enqueue, allowed):
    registered.sandbox_network = allowed
    registered.save(update_fields=["sandbox_network"])
    listener = Listener()
    try:
        run = validate_inline(
            registered,
            world,
            hostile(
                "network",
                f"python -c \"import socket; socket.create_connection(('127.0.0.1', "
                f"{listener.port}), timeout=5); print('CONNECTED')\"",
                extra="network = true",  # declared; whether it is there is the admin's call
            ),
            message=f"ci: network {allowed}",
        )
    finally:
        listener.close()
    check = check_of(run)
    if allowed:
        assert check.status == "passed", check.log
        assert listener.accepted == 1
    else:
        # Issue 17: a check that declares the network where it is not allowed is refused.
        assert check.status == "error"
        assert "declares network = true" in check.summary
        assert listener.accepted == 0


def test_a_tampered_artifact_fails_the_check_that_reads_it(registered, world, no_enqueue):
    """Item 2: the store is out of a check's reach; a file changed there anyway (by hand,
    a disk fault) fails the check that reads it back, and the finding is audited."""
    from monitoring import execution, runs
    from monitoring.artifacts import artifact_path
    from releases.models import AuditEvent
    from tests.validation_runs.conftest import commit_on, toml

    manifest = toml(
        """
        [[check]]
        name = "produce"
        kind = "command"
        run = "echo 'drift: failed' > {artifacts}/verdict.txt"

        [[check]]
        name = "consume"
        kind = "command"
        run = "grep -q passed {artifacts:produce}/verdict.txt"
        """
    )
    sha = commit_on(world, "development", "ci: produce and consume", {"ewsdash.toml": manifest})
    run = runs.validation_run_start(
        repository=registered, commit=sha, actor="test", purpose="manual"
    )
    produce = run.checks.get(name="produce")
    execution.check_result_run(check_id=produce.pk, worker="inline", last_try=True)
    stored = produce.artifacts.get().artifact
    path = artifact_path(stored.sha256)
    path.chmod(0o644)
    path.write_text("drift: passed\n")  # what the hostile check did on main
    consume = run.checks.get(name="consume")
    execution.check_result_run(check_id=consume.pk, worker="inline", last_try=True)
    consume.refresh_from_db()
    run.refresh_from_db()
    assert consume.status == "failed"
    assert consume.summary.startswith(f"stored artifact {stored.sha256[:12]} was changed")
    assert run.status == "failed"
    event = AuditEvent.objects.get(action="artifact.corrupted")
    assert event.payload["check"] == "consume"
    assert event.payload["sha256"] == stored.sha256


def test_a_folder_replaced_by_a_link_is_not_read_through(registered, world, no_enqueue):
    """A link left in the scratch folder would lead ewsdash, reading outputs on the host,
    to the host's files (its secret key, another repository's clone)."""
    var = Path(settings.VAR_DIR)
    (var / "secret-key").write_text("host-secret-0042\n")
    run = validate_inline(
        registered,
        world,
        hostile(
            "links",
            f"""
            cd / && rm -rf /sandbox/artifacts/links && ln -s {var} /sandbox/artifacts/links
            ls -la /sandbox/artifacts
            """,
        ),
    )
    check = check_of(run)
    assert check.status == "failed"
    assert check.summary == (
        "the command replaced its folder /sandbox/artifacts/links with a link; nothing was read"
    )
    assert not check.artifacts.exists()
    assert "host-secret" not in check.log

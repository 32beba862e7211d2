"""No silent fallback: without a working sandbox checks are refused; the opt-out is loud."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.urls import reverse

from tests.sandbox.conftest import hostile, needs_bwrap, validate_inline


def test_a_worker_without_bubblewrap_refuses_to_run_commands(
    registered, world, no_enqueue, settings
):
    settings.EWSDASH_BWRAP = "/nonexistent/bwrap"
    run = validate_inline(registered, world, hostile("unit", "echo RAN > ran.txt; echo RAN"))
    check = run.checks.get()
    assert check.status == "error"
    assert check.summary.startswith(
        "refused to run the command without its sandbox: bubblewrap (/nonexistent/bwrap) "
        "is not installed; install bubblewrap"
    )
    assert "RAN" not in check.log
    assert run.status == "error"


def test_check_deploy_reports_a_missing_sandbox(settings):
    settings.EWSDASH_BWRAP = "/nonexistent/bwrap"
    with pytest.raises(SystemCheckError, match="ewsdash.E102"):
        call_command("check", "--deploy", "--tag", "security")


def test_the_opt_out_runs_unsandboxed_and_says_so_everywhere(
    registered, world, no_enqueue, settings, login
):
    settings.EWSDASH_SANDBOX = "none"
    run = validate_inline(registered, world, hostile("unit", "pwd; test -d .. && echo RAN"))
    check = run.checks.get()
    assert check.status == "passed", check.summary
    assert "/sandbox/" not in check.log  # it ran on the host, as asked
    with pytest.raises(SystemCheckError, match="ewsdash.E101"):
        call_command("check", "--deploy", "--tag", "security")
    for client, url in ((login("viewer"), "/"), (login(None), reverse("login"))):
        page = client.get(url, follow=True)
        assert b'data-testid="sandbox-banner"' in page.content
        assert b"Checks run without a sandbox (EWSDASH_SANDBOX=none)" in page.content


@needs_bwrap
def test_a_sandboxed_site_shows_no_banner_and_passes_its_check(settings, login):
    settings.EWSDASH_SANDBOX = "bwrap"
    page = login("viewer").get("/", follow=True)
    assert b"sandbox-banner" not in page.content
    call_command("check", "--deploy", "--tag", "security", "--fail-level", "ERROR")


@needs_bwrap
def test_a_mount_of_ewsdash_own_folders_is_refused(registered, world, no_enqueue, settings):
    registered.sandbox_mounts = f"/usr/share\n{settings.EWSDASH_CLONES_DIR}\n"
    registered.save(update_fields=["sandbox_mounts"])
    run = validate_inline(registered, world, hostile("unit", "true"))
    check = run.checks.get()
    assert check.status == "error"
    assert "would show checks ewsdash's own folder" in check.summary


@needs_bwrap
def test_a_registered_runtime_is_readable_not_writable(registered, world, no_enqueue, tmp_path):
    runtime = tmp_path / "conda-env"
    (runtime / "bin").mkdir(parents=True)
    (runtime / "bin" / "tool").write_text("#!/bin/sh\necho TOOL-RAN\n")
    (runtime / "bin" / "tool").chmod(0o755)
    registered.sandbox_mounts = str(runtime)
    registered.save(update_fields=["sandbox_mounts"])
    run = validate_inline(
        registered,
        world,
        hostile("unit", f"{runtime}/bin/tool && (echo x > {runtime}/bin/tool || echo RO)"),
    )
    check = run.checks.get()
    assert check.status == "passed", check.log
    assert "TOOL-RAN" in check.log and "RO" in check.log
    assert "TOOL-RAN" in (runtime / "bin" / "tool").read_text()

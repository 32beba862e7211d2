"""Item 3: a commit not on production is judged by production's manifest, the trusted one.

On main a development commit that removed production's failing check and raised the
performance tolerance to 1000 was "validated" by its own manifest, and nothing showed it.
"""

from __future__ import annotations

from django.urls import reverse

from monitoring import runs
from monitoring.models import ValidationRun
from releases.models import AuditEvent
from tests.sandbox.conftest import needs_bwrap
from tests.validation_runs.conftest import commit_on, run_queued_inline, toml

pytestmark = [needs_bwrap]

PRODUCTION = toml(
    """
    [[check]]
    name = "unit"
    kind = "command"
    run = "true"

    [[check]]
    name = "guard"
    kind = "command"
    run = "test -f GUARD-OK"
    """
)
WEAKENED = toml(
    """
    [[check]]
    name = "unit"
    kind = "command"
    run = "true"
    """
)


def validate(repository, commit: str) -> ValidationRun:
    run = runs.validation_run_start(
        repository=repository, commit=commit, actor="test", purpose="manual"
    )
    run_queued_inline(run)
    return ValidationRun.objects.get(pk=run.pk)


def test_a_commit_that_drops_checks_is_judged_by_production(registered, world, no_enqueue, login):
    commit_on(world, "production", "ci: production's checks", {"ewsdash.toml": PRODUCTION})
    sha = commit_on(world, "development", "ci: drop the guard", {"ewsdash.toml": WEAKENED})
    run = validate(registered, sha)
    assert (run.manifest_source, run.manifest_changed) == ("production", True)
    assert run.status == "failed" and run.summary == "failed: guard"
    assert sorted(run.checks.values_list("name", flat=True)) == ["guard", "unit"]
    assert '-name = "guard"' in run.manifest_diff
    assert "--- production/ewsdash.toml" in run.manifest_diff
    page = login("viewer").get(
        reverse("validation_run_detail", kwargs={"name": "pipeline", "run_id": run.pk})
    )
    assert b'data-testid="manifest-changed"' in page.content
    assert b"This commit changes the manifest." in page.content
    assert b"-name = &quot;guard&quot;" in page.content
    assert b"Judged by production's manifest" in page.content


def test_an_unchanged_manifest_is_production_and_not_flagged(registered, world, no_enqueue):
    commit_on(world, "production", "ci: production's checks", {"ewsdash.toml": WEAKENED})
    world.checkout("development")
    world.git("merge", "--quiet", "--no-edit", "production")
    world.push("development")
    sha = world.head()
    run = validate(registered, sha)
    assert (run.manifest_source, run.manifest_changed, run.manifest_diff) == (
        "production",
        False,
        "",
    )
    assert run.status == "passed"


def test_an_approved_manifest_change_judges_by_its_own_manifest(
    registered, world, no_enqueue, users
):
    commit_on(world, "production", "ci: production's checks", {"ewsdash.toml": PRODUCTION})
    sha = commit_on(world, "development", "ci: drop the guard", {"ewsdash.toml": WEAKENED})
    first = validate(registered, sha)
    assert first.status == "failed"
    from django.db import transaction

    with transaction.atomic():
        runs.manifest_change_approve(
            repository=registered, commit=sha, actor=users["admin"], reason="guard retired"
        )
    second = runs.validation_run_rerun(run=first, actor=users["admin"])
    run_queued_inline(second)
    second.refresh_from_db()
    assert (second.manifest_source, second.manifest_changed) == ("candidate", True)
    assert second.status == "passed"
    event = AuditEvent.objects.get(action="validation.manifest_approved")
    assert event.payload == {"commit": sha, "reason": "guard retired"}


def test_a_commit_on_production_uses_its_own_manifest(registered, world, no_enqueue):
    sha = commit_on(world, "production", "ci: production's checks", {"ewsdash.toml": WEAKENED})
    run = validate(registered, sha)
    assert (run.manifest_source, run.manifest_changed) == ("production", False)
    assert run.status == "passed"

"""Item 3, the way out: an admin approves a candidate's manifest change, audited; earlier
approvals become void and the candidate is validated again by its own manifest."""

from __future__ import annotations

from django.urls import reverse

from releases import candidates, services, sync
from releases.models import Approval, AuditEvent
from tests.promotion.conftest import make_promotable
from tests.sandbox.conftest import needs_bwrap
from tests.sandbox.test_trusted_manifest import PRODUCTION, WEAKENED
from tests.validation_runs.conftest import commit_on, run_queued_inline

pytestmark = [needs_bwrap]


def test_it_voids_approvals_and_revalidates_by_the_candidates_manifest(
    world, users, no_enqueue, login
):
    commit_on(world, "production", "ci: production's checks", {"ewsdash.toml": PRODUCTION})
    make_promotable(world)
    commit_on(world, "development", "ci: retire the guard", {"ewsdash.toml": WEAKENED})
    repository = services.repository_create(actor="test", name="pipeline", origin=str(world.origin))
    sync.repository_sync(repository=repository)
    candidate = candidates.candidate_create(repository=repository, actor=users["rm-ana"])
    run = candidate.validation_run
    assert (run.manifest_source, run.manifest_changed) == ("production", True)
    run_queued_inline(run)
    candidates.candidates_follow_run(run_id=run.pk)
    candidate.refresh_from_db()
    assert candidate.status == "validation_failed"  # production's guard still fails
    url = reverse("candidate_detail", kwargs={"name": "pipeline", "pk": candidate.pk})
    page = login("admin").get(url)
    assert b'data-testid="approve-manifest"' in page.content
    assert b"This candidate changes the manifest" in page.content
    # Only an admin may approve the change: a release manager does not see the button.
    assert b'data-testid="approve-manifest"' not in login("rm-ana").get(url).content
    candidates.candidate_waive_validation(candidate=candidate, actor=users["admin"], reason="x")
    candidates.candidate_approve(candidate=candidate, actor=users["rm-ben"])
    assert Approval.objects.filter(candidate=candidate, voided_at__isnull=True).count() == 1

    response = login("admin").post_form(
        reverse("candidate_approve_manifest", kwargs={"name": "pipeline", "pk": candidate.pk}),
        {"reason": "the guard is retired"},
    )
    assert response.status_code == 302
    candidate.refresh_from_db()
    assert candidate.status == "validating"
    assert not Approval.objects.filter(candidate=candidate, voided_at__isnull=True).exists()
    rerun = candidate.validation_run
    assert rerun.pk != run.pk
    assert (rerun.manifest_source, rerun.manifest_changed) == ("candidate", True)
    run_queued_inline(rerun)
    candidates.candidates_follow_run(run_id=rerun.pk)
    candidate.refresh_from_db()
    assert candidate.status == "validated"
    assert AuditEvent.objects.filter(action="validation.manifest_approved").count() == 1
    event = AuditEvent.objects.get(action="candidate.manifest_approved")
    assert event.payload["voided_approvals"]

"""Candidates made straight in the database, for page and permission tests."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from releases import operation_runner
from releases.errors import ActionRefused
from releases.models import Branch, FreezeWindow, PromotionCandidate, Repository


def make_candidate(*, status: str = "validated", name: str = "pipeline") -> PromotionCandidate:
    repository = Repository.objects.get(name=name)
    heads = dict(Branch.objects.filter(repository=repository).values_list("name", "head"))
    return PromotionCandidate.objects.create(
        repository=repository,
        kind="promotion",
        source_branch=repository.development_branch,
        commit=heads[repository.development_branch],
        production_head=heads[repository.production_branch],
        checked_production_head=heads[repository.production_branch],
        contains_production_head=False,
        version="1.1.0",
        proposed_version="1.1.0",
        bump="minor",
        base_version="1.0.0",
        status=status,
        changelog=[
            {
                "group": "Features",
                "sha": "abc12345",
                "author": "Pat",
                "type": "feat",
                "scope": "",
                "subject": "<script>alert(1)</script> new model",
            }
        ],
        created_by=get_user_model().objects.get_or_create(username="rm-ben")[0],
    )


def validated_candidate() -> int:
    return make_candidate().pk


def failed_candidate() -> int:
    return make_candidate(status="validation_failed").pk


def live_approvals(candidate: PromotionCandidate) -> list:
    """The approvals that count for the candidate now (the gates' own reading)."""
    from releases.gates import gate_facts

    return gate_facts(candidate=candidate).live_approvals


def gates_of(candidate: PromotionCandidate) -> list:
    from releases.gates import gate_facts, gates

    return gates(gate_facts(candidate=candidate))


def make_freeze(
    *,
    starts_in: timedelta = timedelta(hours=-1),
    lasts: timedelta = timedelta(days=1),
    name: str = "pipeline",
) -> FreezeWindow:
    """A freeze window (by default in force now), made straight in the database."""
    starts_at = timezone.now() + starts_in
    return FreezeWindow.objects.create(
        repository=Repository.objects.get(name=name),
        starts_at=starts_at,
        ends_at=starts_at + lasts,
        reason="quarterly board meeting",
        created_by=get_user_model().objects.get_or_create(username="admin")[0],
    )


def active_freeze() -> int:
    return make_freeze().pk


def carry_out(operation):
    """Do what a worker does with a queued operation, here; the operation, refreshed."""
    operation_runner.operation_run(operation_id=operation.pk)
    operation.refresh_from_db()
    return operation


def carried_out(operation):
    """`carry_out`, raising the operation's error as a refusal when it failed."""
    operation = carry_out(operation)
    if operation.status == "failed":
        raise ActionRefused(operation.error)
    return operation


def running_operation() -> int:
    """A back-merge a worker is carrying out (its heartbeat fresh), for page tests."""
    from releases.models import Operation

    repository = Repository.objects.get(name="pipeline")
    existing = Operation.objects.filter(repository=repository, status="running").first()
    if existing is not None:  # one operation at a time per repository
        return existing.pk
    now = timezone.now()
    return Operation.objects.create(
        repository=repository,
        kind="back_merge",
        status="running",
        progress="pushing refs/heads/development to the origin",
        claimed_by="host-a:123",
        claim_token="t",
        started_at=now,
        heartbeat_at=now,
        queued_at=now,
    ).pk


def open_incident() -> int:
    from releases.models import Incident

    return Incident.objects.create(
        repository=Repository.objects.get(name="pipeline"),
        kind="production_moved_outside",
        ref="refs/heads/production",
        commit="a" * 40,
        previous_commit="b" * 40,
        detail="moved by hand",
    ).pk


def attested_release() -> str:
    """Release 1.0.0 with an attestation row and a stored bundle (unsigned: for page and
    permission tests; real ones are made by promotions, tests/promotion/test_attestations.py)."""
    import tempfile
    from pathlib import Path

    from monitoring.artifacts import artifact_store
    from releases.models import Release, ReleaseAttestation

    release = Release.objects.get(repository__name="pipeline", version="1.0.0")
    if not ReleaseAttestation.objects.filter(release=release).exists():
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl") as scratch:
            scratch.write('{"payloadType": "application/vnd.in-toto+json"}\n')
            scratch.flush()
            bundle = artifact_store(Path(scratch.name))
        ReleaseAttestation.objects.create(
            release=release,
            bundle=bundle,
            keyid="SHA256:none",
            git_ref="refs/ewsdash/attestations/1.0.0",
            git_commit="0" * 40,
        )
    return release.version

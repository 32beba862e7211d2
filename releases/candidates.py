"""Promotion candidates: create, validate, approve, reject, cancel, waive, promote.

Every function here is a service: keyword-only, permission-checked, one transaction that
locks the row it changes (`workflow.candidate_lock`), re-checks its state after locking,
writes the audit event, and queues work only once committed. Git is read before the
transaction opens, never inside it (see `releases.clones`).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from ewsdash import queue
from monitoring import runs
from monitoring.models import RunPurpose, RunStatus, ValidationRun
from releases import git, versioning
from releases.access import require_permission
from releases.audit import audit_record
from releases.clones import clone_session
from releases.errors import ActionRefused
from releases.gates import (
    approve_refusal,
    break_glass_refusal,
    cancel_refusal,
    gate_facts,
    promote_refusal,
    reject_refusal,
    rerun_refusal,
    waive_refusal,
)
from releases.models import (
    Approval,
    Branch,
    BranchKind,
    CandidateKind,
    Decision,
    Forge,
    Operation,
    OperationKind,
    PromotionCandidate,
    Release,
    ReleaseLine,
    Repository,
)
from releases.operation_base import operation_queue
from releases.sync import kind_by_prefix, repository_sync, signers_of
from releases.workflow import (
    OPEN,
    S,
    approvals_void,
    candidate_lock,
    candidate_transition,
    gates_changed,
)

# -- creating a candidate --------------------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    commit: str
    production_head: str
    contains_production_head: bool
    base_version: str
    proposed_version: str
    bump: str
    changelog: list[dict[str, Any]]
    people: list[str]
    version_in_file: str = ""
    unsigned: list[str] | None = None


def existing_versions(repository: Repository) -> list[versioning.Version]:
    """Every recorded release's version that parses as semver."""
    versions = []
    for text in Release.objects.filter(repository=repository).values_list("version", flat=True):
        parsed = versioning.parse_version_tag(text)
        if isinstance(parsed, versioning.ParsedTag):
            versions.append(parsed.version)
    return versions


def declared_version(repo: git.GitRepo, commit: str, path: str) -> str:
    """The version a pyproject.toml-style file declares at `commit` (`[project] version`,
    else `[tool.poetry] version`), or "" when there is no such file or version."""
    if not path:
        return ""
    data = git.read_file_at(repo, commit, path)
    if data is None:
        return ""
    try:
        parsed = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return ""
    for table in (parsed.get("project"), parsed.get("tool", {}).get("poetry")):
        if isinstance(table, dict) and isinstance(table.get("version"), str):
            return table["version"].strip()[:255]
    return ""


def _propose(
    repository: Repository, repo: git.GitRepo, *, commit: str, production_head: str, kind: str
) -> Proposal:
    """Version, changelog and people of `commit`, from git (caller holds the clone lock)."""
    versions = existing_versions(repository)
    latest = max(versions) if versions else None
    # The highest release on production, as the sync that preceded this recorded it.
    line = (
        ReleaseLine.objects.filter(repository=repository).select_related("latest_release").first()
    )
    base_commit = line.latest_release.commit if line and line.latest_release else None
    revisions = [commit, f"^{base_commit}"] if base_commit else [commit]
    commits = [
        versioning.CommitInfo(
            sha=c.sha,
            subject=c.subject,
            body=c.body,
            author_name=c.author_name,
            author_email=c.author_email,
            committed_at=c.committed_at or timezone.now(),
            is_merge=c.is_merge,
        )
        for c in repo.log(*revisions)
    ]
    bump = "patch" if kind == CandidateKind.HOTFIX else (versioning.bump_for(commits) or "patch")
    proposed = versioning.next_version(latest, bump)  # type: ignore[arg-type]
    people = sorted(
        git.people_in_range(
            repo, production_head, commit, clean_merger=settings.EWSDASH_GIT_EMAIL.lower()
        )
    )
    unsigned = (
        git.unverified_commits(repo, production_head, commit, signers=signers_of(repository))
        if repository.require_signed_commits
        else None
    )
    return Proposal(
        unsigned=unsigned,
        commit=commit,
        production_head=production_head,
        contains_production_head=git.is_ancestor(repo, production_head, commit),
        base_version=str(latest) if latest else "",
        proposed_version=str(proposed),
        bump=bump,
        changelog=versioning.build_changelog(commits).to_list(),
        people=people,
        version_in_file=declared_version(repo, commit, repository.version_file),
    )


def _source_kind(repository: Repository, source_branch: str) -> str:
    """Development and release branches give promotions, hotfix branches patch releases."""
    if source_branch == repository.development_branch:
        return CandidateKind.PROMOTION
    kind = kind_by_prefix(source_branch)
    if kind == BranchKind.HOTFIX:
        return CandidateKind.HOTFIX
    if kind == BranchKind.RELEASE:
        return CandidateKind.PROMOTION
    allowed = [
        f"{prefix}*"
        for kind in (BranchKind.RELEASE, BranchKind.HOTFIX)
        for prefix in settings.EWSDASH_BRANCH_PREFIXES.get(str(kind), ())
    ]
    raise ActionRefused(
        f"Candidates come from {repository.development_branch}"
        + (f" or a {' or '.join(allowed)} branch" if allowed else "")
        + f", not {source_branch!r}."
    )


@dataclass(frozen=True)
class Frozen:
    """A candidate as git showed it, read before any transaction opens (`candidate_freeze`)."""

    source_branch: str
    kind: str
    version: str
    proposal: Proposal
    plan: runs.RunPlan


def candidate_request(
    *, repository: Repository, actor: Any, source_branch: str = "", version: str = ""
) -> Operation:
    """The request's half of creating a candidate: refuse what the database can tell,
    record the intent as an operation and return at once. A worker syncs with the origin,
    freezes the branch head and starts its validation (`candidate_create_for_operation`);
    the operation's page shows how far it got and why it failed."""
    require_permission(actor, "create_candidate")
    source_branch = (source_branch or repository.development_branch).strip()
    if any(ord(c) < 32 or ord(c) == 127 for c in source_branch + version):
        raise ActionRefused("Branch names and versions have no control characters.")
    too_long = versioning.ref_too_long(source_branch)
    if too_long:
        raise ActionRefused(f"The branch name {too_long}.")
    _source_kind(repository, source_branch)
    if version.strip() and not isinstance(
        versioning.parse_version_tag(version.strip()), versioning.ParsedTag
    ):
        raise ActionRefused(f"{version.strip()[:80]!r} is not a semantic version (1.4.0).")
    return operation_queue(
        repository=repository,
        kind=OperationKind.CANDIDATE_CREATE,
        actor=actor,
        params={"source": source_branch, "version": version.strip()},
    )


def candidate_freeze(
    *, repository: Repository, actor: Any, source_branch: str = "", version: str = ""
) -> Frozen:
    """Sync with the origin and read what the candidate will be (network and git; no
    transaction may be open)."""
    source_branch = source_branch or repository.development_branch
    outcome = repository_sync(repository=repository, actor=actor)
    if outcome.error:
        raise ActionRefused(f"Cannot read the origin: {outcome.error}")
    heads = dict(
        Branch.objects.filter(repository=repository, gone_at__isnull=True).values_list(
            "name", "head"
        )
    )
    if source_branch not in heads:
        raise ActionRefused(f"There is no branch {source_branch!r} at the origin.")
    kind = _source_kind(repository, source_branch)
    commit, production_head = heads[source_branch], heads[repository.production_branch]
    if commit == production_head:
        raise ActionRefused(f"{source_branch} has nothing that production lacks.")
    with clone_session(repository) as repo:
        proposal = _propose(
            repository, repo, commit=commit, production_head=production_head, kind=kind
        )
    target = proposal.proposed_version
    if version.strip():
        minimum = versioning.parse_version_tag(proposal.proposed_version)
        assert isinstance(minimum, versioning.ParsedTag)
        try:
            target = str(
                versioning.validate_override(
                    version, existing=existing_versions(repository), minimum=minimum.version
                )
            )
        except versioning.VersionError as error:
            raise ActionRefused(str(error)) from None
    plan = runs.run_plan(repository=repository, ref=commit)
    return Frozen(source_branch, kind, target, proposal, plan)


def candidate_create(
    *, repository: Repository, actor: Any, source_branch: str = "", version: str = ""
) -> PromotionCandidate:
    """Freeze the source branch's head as a candidate and queue its staging validation,
    all at once (commands, tests and the worker; a web request calls `candidate_request`).

    The source is development, or a hotfix/* branch (then the candidate is a patch
    release). A newer candidate from the same branch supersedes older open ones.
    """
    require_permission(actor, "create_candidate")
    frozen = candidate_freeze(
        repository=repository, actor=actor, source_branch=source_branch, version=version
    )
    with transaction.atomic():
        return candidate_record(repository=repository, actor=actor, frozen=frozen)


def candidate_create_plan(operation: Operation, repo: git.GitRepo) -> Any:
    """Never called: a candidate creation pushes nothing (operation_runner runs it)."""
    raise ActionRefused("A candidate creation has no git write to plan.")


def candidate_create_not_recorded(operation: Operation) -> str:
    """Never called: the runner records a candidate creation with what it froze."""
    raise ActionRefused("A candidate creation is recorded by its own worker.")


def candidate_record(*, repository: Repository, actor: Any, frozen: Frozen) -> PromotionCandidate:
    """The candidate row, its audit event, the superseded ones and its validation run
    (inside the caller's transaction)."""
    proposal, source_branch, target = frozen.proposal, frozen.source_branch, frozen.version
    Repository.objects.select_for_update().get(pk=repository.pk)
    candidate = PromotionCandidate.objects.create(
        repository=repository,
        kind=frozen.kind,
        source_branch=source_branch,
        commit=proposal.commit,
        production_head=proposal.production_head,
        checked_production_head=proposal.production_head,
        contains_production_head=proposal.contains_production_head,
        version=target,
        proposed_version=proposal.proposed_version,
        bump=proposal.bump,
        base_version=proposal.base_version,
        version_in_file=proposal.version_in_file,
        changelog=proposal.changelog,
        commit_people=proposal.people,
        unsigned_commits=proposal.unsigned,
        created_by=actor,
    )
    audit_record(
        actor=actor,
        action="candidate.created",
        obj=candidate,
        repository=repository,
        payload={
            "source": source_branch,
            "commit": proposal.commit,
            "version": target,
            "proposed": proposal.proposed_version,
            "production_head": proposal.production_head,
        },
    )
    older = (
        PromotionCandidate.objects.select_for_update()
        .filter(repository=repository, source_branch=source_branch, status__in=OPEN)
        .exclude(pk=candidate.pk)
        .exclude(status=S.PROMOTING)
    )
    for old in older:
        approvals_void(old, f"superseded by candidate #{candidate.pk}")
        candidate_transition(
            old,
            S.SUPERSEDED,
            actor=actor,
            action="candidate.superseded",
            reason=f"A newer candidate (#{candidate.pk}) from {source_branch}.",
        )
    run = runs.validation_run_create(plan=frozen.plan, actor=actor, purpose=RunPurpose.CANDIDATE)
    if repository.forge != Forge.DIRECT:
        # Before the first status, so the pull request shows it from the start.
        queue.enqueue_on_commit(queue.CANDIDATE_PULL_REQUEST_OPEN, candidate_id=candidate.pk)
    _attach_run(candidate, run)
    gates_changed(candidate)
    return candidate


def _attach_run(candidate: PromotionCandidate, run: ValidationRun) -> None:
    """Make `run` the candidate's evidence and follow it (inside the caller's transaction)."""
    candidate.validation_run = run
    candidate.save(update_fields=["validation_run", "updated_at"])
    _follow_run(candidate, run)


# -- validation outcome ----------------------------------------------------------------------


def _follow_run(candidate: PromotionCandidate, run: ValidationRun) -> None:
    """Move a validating candidate on when its run has a verdict (caller holds the lock)."""
    if candidate.status != S.VALIDATING or not run.is_finished:
        return
    if run.status == RunStatus.PASSED:
        candidate_transition(
            candidate,
            S.VALIDATED,
            actor=None,
            action="candidate.validated",
            reason=run.summary,
            payload={"run": run.pk},
        )
    else:
        reason = run.manifest_error or run.summary or run.status
        candidate_transition(
            candidate,
            S.VALIDATION_FAILED,
            actor=None,
            action="candidate.validation_failed",
            reason=reason,
            payload={"run": run.pk},
        )


def candidates_follow_run(*, run_id: int) -> None:
    """A run finished: its validating candidates take its verdict, in a transaction of their own.

    Connected to `monitoring.signals.run_finished` (see releases.apps), which is sent after
    the run's transaction committed, so candidate locks are never taken while run locks
    are held. `candidates_catch_up` repairs a follow-up lost to a dying process.
    """
    with transaction.atomic():
        run = ValidationRun.objects.get(pk=run_id)
        for candidate in (
            PromotionCandidate.objects.select_for_update(of=("self",))
            .select_related("repository")
            .filter(validation_run=run, status=S.VALIDATING)
        ):
            _follow_run(candidate, run)


def candidates_catch_up() -> int:
    """Validating candidates whose run has finished take its verdict now (beat runs this)."""
    behind = (
        PromotionCandidate.objects.filter(
            status=S.VALIDATING, validation_run__finished_at__isnull=False
        )
        .values_list("validation_run_id", flat=True)
        .distinct()
    )
    run_ids = [run_id for run_id in behind if run_id is not None]
    for run_id in run_ids:
        candidates_follow_run(run_id=run_id)
    return len(run_ids)


def candidate_rerun_validation(*, candidate: PromotionCandidate, actor: Any) -> None:
    """Validate again; earlier approvals are void (they were given for the old run)."""
    require_permission(actor, "rerun_validation")
    plan = runs.run_plan(repository=candidate.repository, ref=candidate.commit)
    with transaction.atomic():
        candidate = candidate_lock(candidate)
        refusal = rerun_refusal(candidate, actor)
        if refusal:
            raise ActionRefused(refusal)
        _validate_again(
            candidate,
            actor=actor,
            plan=plan,
            why="validation re-run",
            action="candidate.validation_rerun",
        )


def candidate_approve_manifest(*, candidate: PromotionCandidate, actor: Any, reason: str) -> None:
    """An admin approves the candidate's changed manifest (issue 11): it is validated again,
    judged by its own manifest this time; the approval is audited and voids earlier
    approvals of the candidate (they were given under production's manifest)."""
    require_permission(actor, "waive_check")
    plan = runs.run_plan(
        repository=candidate.repository, ref=candidate.commit, manifest_approved=True
    )
    if not plan.changed:
        raise ActionRefused("This candidate does not change the manifest.")
    with transaction.atomic():
        candidate = candidate_lock(candidate)
        refusal = rerun_refusal(candidate, actor)
        if refusal:
            raise ActionRefused(refusal)
        runs.manifest_change_approve(
            repository=candidate.repository, commit=candidate.commit, actor=actor, reason=reason
        )
        _validate_again(
            candidate,
            actor=actor,
            plan=plan,
            why="manifest change approved",
            action="candidate.manifest_approved",
            payload={"reason": reason.strip()},
        )


def _validate_again(
    candidate: PromotionCandidate,
    *,
    actor: Any,
    plan: runs.RunPlan,
    why: str,
    action: str,
    payload: dict[str, Any] | None = None,
) -> None:
    """Inside the caller's transaction, on the locked candidate: void its approvals (given
    for the old run), drop any waiver, audit `action`, and start the new run."""
    voided = approvals_void(candidate, why)
    candidate.waived_by, candidate.waiver_reason = None, ""
    candidate_transition(
        candidate,
        S.VALIDATING,
        actor=actor,
        action=action,
        payload={"voided_approvals": voided, **(payload or {})},
    )
    previous = candidate.validation_run
    if previous is not None:
        run = runs.validation_run_rerun(run=previous, actor=actor, plan=plan)
    else:
        run = runs.validation_run_create(plan=plan, actor=actor, purpose=RunPurpose.CANDIDATE)
    _attach_run(candidate, run)


def candidate_waive_validation(*, candidate: PromotionCandidate, actor: Any, reason: str) -> None:
    """An admin lets a candidate with failed (or undeclared) validation proceed, with a reason."""
    require_permission(actor, "waive_check")
    if not reason.strip():
        raise ActionRefused("A waiver needs a reason.")
    with transaction.atomic():
        candidate = candidate_lock(candidate)
        refusal = waive_refusal(candidate, actor)
        if refusal:
            raise ActionRefused(refusal)
        candidate.waived_by, candidate.waiver_reason = actor, reason.strip()
        candidate_transition(
            candidate,
            S.VALIDATED,
            actor=actor,
            action="candidate.validation_waived",
            reason=f"Waived by {actor.get_username()}: {reason.strip()}",
        )


# -- decisions -------------------------------------------------------------------------------


def candidate_approve(*, candidate: PromotionCandidate, actor: Any, comment: str = "") -> None:
    require_permission(actor, "approve_candidate")
    with transaction.atomic():
        candidate = candidate_lock(candidate)
        facts = gate_facts(candidate=candidate)
        refusal = approve_refusal(candidate, actor, facts)
        if refusal:
            raise ActionRefused(refusal)
        try:
            with transaction.atomic():
                Approval.objects.create(
                    candidate=candidate,
                    user=actor,
                    decision=Decision.APPROVE,
                    commit=candidate.commit,
                    validation_run_id=candidate.validation_run_id,
                    comment=comment.strip(),
                )
        except IntegrityError:
            raise ActionRefused("You have already decided on this candidate.") from None
        audit_record(
            actor=actor,
            action="candidate.approval",
            obj=candidate,
            repository=candidate.repository,
            payload={
                "commit": candidate.commit,
                "run": candidate.validation_run_id,
                "comment": comment.strip(),
            },
        )
        gates_changed(candidate)
        count = len(gate_facts(candidate=candidate).live_approvals)
        if candidate.status == S.VALIDATED and count >= candidate.repository.required_approvals:
            candidate_transition(
                candidate,
                S.APPROVED,
                actor=actor,
                action="candidate.approved",
                reason=f"{count} approvals",
            )


def candidate_reject(*, candidate: PromotionCandidate, actor: Any, reason: str) -> None:
    """Anyone who may approve may reject, with a reason; it ends the candidate."""
    require_permission(actor, "approve_candidate")
    if not reason.strip():
        raise ActionRefused("A rejection needs a reason.")
    with transaction.atomic():
        candidate = candidate_lock(candidate)
        refusal = reject_refusal(candidate, actor)
        if refusal:
            raise ActionRefused(refusal)
        Approval.objects.filter(candidate=candidate, user=actor, voided_at__isnull=True).update(
            voided_at=timezone.now(), void_reason="replaced by a rejection"
        )
        Approval.objects.create(
            candidate=candidate,
            user=actor,
            decision=Decision.REJECT,
            commit=candidate.commit,
            validation_run_id=candidate.validation_run_id,
            comment=reason.strip(),
        )
        candidate_transition(
            candidate,
            S.REJECTED,
            actor=actor,
            action="candidate.rejected",
            reason=reason.strip(),
        )


def candidate_cancel(*, candidate: PromotionCandidate, actor: Any) -> None:
    """Its creator or an admin withdraws a candidate; a validation still running stops."""
    require_permission(actor, "create_candidate")
    with transaction.atomic():
        candidate = candidate_lock(candidate)
        refusal = cancel_refusal(candidate, actor)
        if refusal:
            raise ActionRefused(refusal)
        candidate_transition(
            candidate,
            S.CANCELLED,
            actor=actor,
            action="candidate.cancelled",
            reason=f"Cancelled by {actor.get_username()}",
        )
    run = candidate.validation_run
    if run is not None and not run.is_finished:
        try:
            runs.validation_run_cancel(run=run, actor=actor)
        except ActionRefused:
            pass  # it finished meanwhile: nothing left to stop


# -- promotion -------------------------------------------------------------------------------


def candidate_promote(
    *, candidate: PromotionCandidate, actor: Any, break_glass_reason: str = ""
) -> None:
    """Check every gate under the row lock, mark it promoting, record the git work.

    The promote Operation (releases.operation_base) is queued in the same transaction; a
    worker carries it out (releases.operation_runner).

    A double click or a second person finds it promoting and is refused; the
    database refuses two promoting candidates in one repository.
    """
    require_permission(actor, "promote_candidate")
    with transaction.atomic():
        Repository.objects.select_for_update().get(pk=candidate.repository_id)
        candidate = candidate_lock(candidate)
        facts = gate_facts(candidate=candidate)
        if facts.freeze is not None and break_glass_reason.strip():
            refusal = break_glass_refusal(candidate, actor)
            if refusal:
                raise ActionRefused(refusal)
            candidate.freeze_override_reason = break_glass_reason.strip()
        refusal = promote_refusal(candidate, actor, facts)
        if refusal:
            raise ActionRefused(refusal)
        candidate.promoted_by = actor
        candidate.promotion_error = ""
        operation = operation_queue(
            repository=candidate.repository,
            kind=OperationKind.PROMOTE,
            actor=actor,
            candidate=candidate,
            params={"version": candidate.version, "commit": candidate.commit},
        )
        candidate_transition(
            candidate,
            S.PROMOTING,
            actor=actor,
            action="candidate.promoting",
            payload={"break_glass": candidate.freeze_override_reason, "operation": operation.pk},
        )

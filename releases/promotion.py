"""Promotion candidates: create, validate, approve, reject, promote.

Every function here is a service: keyword-only, permission-checked, one
transaction that locks the row it changes, re-checks its state after locking,
writes the audit event, and enqueues work only once committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from releases import git, versioning
from releases.audit import audit_record
from releases.errors import ActionRefused
from releases.models import (
    Approval,
    Branch,
    BranchKind,
    CandidateKind,
    Decision,
    FreezeWindow,
    PromotionCandidate,
    Release,
    ReleaseKind,
    ReleaseLine,
    Repository,
)
from releases.workflow import OPEN, CandidateStatus, check_transition

S = CandidateStatus


# -- helpers ---------------------------------------------------------------------------------


def require_permission(actor: Any, codename: str) -> None:
    """Services check permissions themselves, so no entry point can skip the check."""
    if not getattr(actor, "is_authenticated", False) or not actor.has_perm(f"releases.{codename}"):
        raise ActionRefused(f"Your role does not allow this ({codename.replace('_', ' ')}).")


def _locked(candidate: PromotionCandidate) -> PromotionCandidate:
    return PromotionCandidate.objects.select_for_update().get(pk=candidate.pk)


def _transition(
    candidate: PromotionCandidate,
    target: str,
    *,
    actor: Any,
    action: str,
    reason: str = "",
    payload: dict[str, Any] | None = None,
) -> None:
    """The one way a candidate's status changes (inside the caller's transaction, row locked)."""
    check_transition(candidate.status, target)
    previous = candidate.status
    candidate.status = target
    candidate.status_reason = reason
    candidate.save()
    audit_record(
        actor=actor,
        action=action,
        obj=candidate,
        repository=candidate.repository,
        payload={"from": previous, "to": target, "reason": reason, **(payload or {})},
    )


def _void_decisions(candidate: PromotionCandidate, reason: str) -> int:
    return Approval.objects.filter(candidate=candidate, voided_at__isnull=True).update(
        voided_at=timezone.now(), void_reason=reason
    )


def active_freeze(repository: Repository, *, at: datetime | None = None) -> FreezeWindow | None:
    now = at or timezone.now()
    return (
        FreezeWindow.objects.filter(repository=repository, starts_at__lte=now, ends_at__gt=now)
        .order_by("ends_at")
        .first()
    )


def git_identity() -> git.Identity:
    return git.Identity(settings.EWSDASH_GIT_NAME, settings.EWSDASH_GIT_EMAIL)


def person_identity(user: Any) -> git.Identity:
    name = user.get_full_name() or user.get_username()
    return git.Identity(name, user.email or f"{user.get_username()}@ewsdash.invalid")


def _clone(repository: Repository) -> git.GitRepo:
    from releases.services import clone_open

    return clone_open(repository)


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


def _existing_versions(repository: Repository) -> list[versioning.Version]:
    versions = []
    for text in Release.objects.filter(repository=repository).values_list("version", flat=True):
        parsed = versioning.parse_version_tag(text)
        if isinstance(parsed, versioning.ParsedTag):
            versions.append(parsed.version)
    return versions


def _propose(repository: Repository, *, commit: str, production_head: str, kind: str) -> Proposal:
    """Version, changelog and people of `commit`, from git (caller holds the clone lock)."""
    repo = _clone(repository)
    versions = _existing_versions(repository)
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
    return Proposal(
        commit=commit,
        production_head=production_head,
        contains_production_head=git.is_ancestor(repo, production_head, commit),
        base_version=str(latest) if latest else "",
        proposed_version=str(proposed),
        bump=bump,
        changelog=versioning.build_changelog(commits).to_list(),
        people=people,
    )


def candidate_create(
    *, repository: Repository, actor: Any, source_branch: str = "", version: str = ""
) -> PromotionCandidate:
    """Freeze the source branch's head as a candidate and queue its staging validation.

    The source is development, or a hotfix/* branch (then the candidate is a patch
    release). A newer candidate from the same branch supersedes older open ones.
    """
    from releases.services import clone_dir, repository_sync

    require_permission(actor, "create_candidate")
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
    if source_branch == repository.development_branch:
        kind = CandidateKind.PROMOTION
    elif source_branch.startswith("hotfix/"):
        kind = CandidateKind.HOTFIX
    else:
        raise ActionRefused(
            f"Candidates come from {repository.development_branch} or a hotfix/* branch, "
            f"not {source_branch!r}."
        )
    commit, production_head = heads[source_branch], heads[repository.production_branch]
    if commit == production_head:
        raise ActionRefused(f"{source_branch} has nothing that production lacks.")
    with git.clone_lock(clone_dir(repository.name)):
        proposal = _propose(repository, commit=commit, production_head=production_head, kind=kind)
    target = proposal.proposed_version
    if version.strip():
        try:
            target = str(
                versioning.validate_override(
                    version,
                    existing=_existing_versions(repository),
                    minimum=versioning.parse_version_tag(proposal.proposed_version).version,  # type: ignore[union-attr]
                )
            )
        except versioning.VersionError as error:
            raise ActionRefused(str(error)) from None

    with transaction.atomic():
        Repository.objects.select_for_update().get(pk=repository.pk)
        candidate = PromotionCandidate.objects.create(
            repository=repository,
            kind=kind,
            source_branch=source_branch,
            commit=proposal.commit,
            production_head=proposal.production_head,
            checked_production_head=proposal.production_head,
            contains_production_head=proposal.contains_production_head,
            version=target,
            proposed_version=proposal.proposed_version,
            bump=proposal.bump,
            base_version=proposal.base_version,
            changelog=proposal.changelog,
            commit_people=proposal.people,
            created_by=actor,
        )
        audit_record(
            actor=actor,
            action="candidate.created",
            obj=candidate,
            repository=repository,
            payload={
                "source": source_branch,
                "commit": commit,
                "version": target,
                "proposed": proposal.proposed_version,
                "production_head": production_head,
            },
        )
        older = (
            PromotionCandidate.objects.select_for_update()
            .filter(
                repository=repository,
                source_branch=source_branch,
                status__in=OPEN,
            )
            .exclude(pk=candidate.pk)
            .exclude(status=S.PROMOTING)
        )
        for old in older:
            _void_decisions(old, f"superseded by candidate #{candidate.pk}")
            _transition(
                old,
                S.SUPERSEDED,
                actor=actor,
                action="candidate.superseded",
                reason=f"A newer candidate (#{candidate.pk}) from {source_branch}.",
            )
        _start_validation(candidate, actor=actor)
    return candidate


def _start_validation(candidate: PromotionCandidate, *, actor: Any, rerun: bool = False) -> None:
    from monitoring import services as validation
    from monitoring.models import RunPurpose

    if rerun and candidate.validation_run is not None:
        run = validation.validation_run_rerun(run=candidate.validation_run, actor=actor)
    else:
        run = validation.validation_run_start(
            repository=candidate.repository,
            commit=candidate.commit,
            actor=actor,
            purpose=RunPurpose.CANDIDATE,
        )
    candidate.validation_run = run
    candidate.save(update_fields=["validation_run", "updated_at"])
    _follow_run(candidate, run)


# -- validation outcome ----------------------------------------------------------------------


def _follow_run(candidate: PromotionCandidate, run: Any) -> None:
    """Move a validating candidate on when its run has a verdict (caller holds the lock)."""
    from monitoring.models import RunStatus

    if candidate.status != S.VALIDATING or not run.is_finished:
        return
    if run.status == RunStatus.PASSED:
        _transition(
            candidate,
            S.VALIDATED,
            actor=None,
            action="candidate.validated",
            reason=run.summary,
            payload={"run": run.pk},
        )
    else:
        reason = run.manifest_error or run.summary or run.status
        _transition(
            candidate,
            S.VALIDATION_FAILED,
            actor=None,
            action="candidate.validation_failed",
            reason=reason,
            payload={"run": run.pk},
        )


def candidates_follow_run(*, run: Any) -> None:
    """Called when a run finishes, in its transaction: its candidates take its verdict."""
    for candidate in PromotionCandidate.objects.select_for_update().filter(
        validation_run=run, status=S.VALIDATING
    ):
        _follow_run(candidate, run)


def candidate_rerun_validation(*, candidate: PromotionCandidate, actor: Any) -> None:
    """Validate again; earlier approvals are void (they were given for the old run)."""
    require_permission(actor, "rerun_validation")
    with transaction.atomic():
        candidate = _locked(candidate)
        voided = _void_decisions(candidate, "validation re-run")
        candidate.waived_by, candidate.waiver_reason = None, ""
        _transition(
            candidate,
            S.VALIDATING,
            actor=actor,
            action="candidate.validation_rerun",
            payload={"voided_approvals": voided},
        )
        _start_validation(candidate, actor=actor, rerun=candidate.validation_run is not None)


def candidate_waive_validation(*, candidate: PromotionCandidate, actor: Any, reason: str) -> None:
    """An admin lets a candidate with failed (or undeclared) validation proceed, with a reason."""
    require_permission(actor, "waive_check")
    if not reason.strip():
        raise ActionRefused("A waiver needs a reason.")
    with transaction.atomic():
        candidate = _locked(candidate)
        if candidate.status != S.VALIDATION_FAILED:
            raise ActionRefused("Only a candidate whose validation failed can be waived.")
        candidate.waived_by, candidate.waiver_reason = actor, reason.strip()
        _transition(
            candidate,
            S.VALIDATED,
            actor=actor,
            action="candidate.validation_waived",
            reason=f"Waived by {actor.get_username()}: {reason.strip()}",
        )


# -- decisions -------------------------------------------------------------------------------


def _may_decide(candidate: PromotionCandidate, actor: Any) -> str:
    """Why `actor` may not approve, or "" when they may."""
    if candidate.created_by_id == actor.pk:
        return "You created this candidate; another release manager must approve it."
    email = (actor.email or "").strip().lower()
    if not candidate.repository.authors_may_approve and email and email in candidate.commit_people:
        return (
            "You authored or committed a commit in this candidate; this repository does "
            "not let authors approve their own changes."
        )
    return ""


def candidate_approve(*, candidate: PromotionCandidate, actor: Any, comment: str = "") -> None:
    require_permission(actor, "approve_candidate")
    with transaction.atomic():
        candidate = _locked(candidate)
        if candidate.status not in (S.VALIDATED, S.APPROVED):
            raise ActionRefused(
                f"A {candidate.get_status_display()} candidate cannot be approved: approvals "
                "are given once validation passed (or was waived)."
            )
        refusal = _may_decide(candidate, actor)
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
        count = live_approvals(candidate).count()
        if candidate.status == S.VALIDATED and count >= candidate.repository.required_approvals:
            _transition(
                candidate,
                S.APPROVED,
                actor=actor,
                action="candidate.approved",
                reason=f"{count} approvals",
            )


def live_approvals(candidate: PromotionCandidate) -> QuerySet[Approval]:
    return Approval.objects.filter(
        candidate=candidate,
        decision=Decision.APPROVE,
        voided_at__isnull=True,
        commit=candidate.commit,
        validation_run_id=candidate.validation_run_id,
    )


def candidate_reject(*, candidate: PromotionCandidate, actor: Any, reason: str) -> None:
    """Anyone who may approve may reject, with a reason; it ends the candidate."""
    require_permission(actor, "approve_candidate")
    if not reason.strip():
        raise ActionRefused("A rejection needs a reason.")
    with transaction.atomic():
        candidate = _locked(candidate)
        if candidate.status not in OPEN or candidate.status == S.PROMOTING:
            raise ActionRefused(f"A {candidate.get_status_display()} candidate cannot be rejected.")
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
        _transition(
            candidate, S.REJECTED, actor=actor, action="candidate.rejected", reason=reason.strip()
        )


def candidate_cancel(*, candidate: PromotionCandidate, actor: Any) -> None:
    """Its creator or an admin withdraws a candidate."""
    require_permission(actor, "create_candidate")
    with transaction.atomic():
        candidate = _locked(candidate)
        if candidate.created_by_id != actor.pk and not actor.has_perm("releases.rollback_release"):
            raise ActionRefused("Only the candidate's creator or an admin can cancel it.")
        if candidate.status == S.PROMOTING:
            raise ActionRefused("The promotion is under way; it cannot be cancelled now.")
        _transition(
            candidate,
            S.CANCELLED,
            actor=actor,
            action="candidate.cancelled",
            reason=f"Cancelled by {actor.get_username()}",
        )
        if candidate.validation_run is not None and not candidate.validation_run.is_finished:
            from monitoring.services import validation_run_cancel

            validation_run_cancel(run=candidate.validation_run, actor=actor)


# -- gates -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Gate:
    key: str
    label: str
    ok: bool
    detail: str


def candidate_gates(
    *,
    candidate: PromotionCandidate,
    approvals: int,
    production_head: str | None,
    other_promoting: PromotionCandidate | None,
    freeze: FreezeWindow | None,
) -> list[Gate]:
    """The promotion checklist, from facts the caller fetched (no query, no git)."""
    run = candidate.validation_run
    if candidate.waived_by_id:
        validation = Gate(
            "validation", "Staging validation", True, f"waived: {candidate.waiver_reason}"
        )
    elif run is None:
        validation = Gate("validation", "Staging validation", False, "not started")
    else:
        detail = run.manifest_error or run.summary or run.status
        validation = Gate(
            "validation", "Staging validation", run.status == "passed", f"run #{run.pk}: {detail}"
        )
    moved = production_head is not None and production_head != candidate.checked_production_head
    if moved:
        contains = Gate(
            "contains_production",
            "Contains production's head",
            False,
            "production moved since this was checked; sync to re-check",
        )
    elif candidate.contains_production_head:
        contains = Gate(
            "contains_production",
            "Contains production's head",
            True,
            f"contains {candidate.checked_production_head[:10]}",
        )
    else:
        what = (
            "development is behind production: merge production into development first"
            if candidate.kind == CandidateKind.PROMOTION
            else "the hotfix branch is not based on production's current head"
        )
        contains = Gate("contains_production", "Contains production's head", False, what)
    busy = other_promoting is not None and other_promoting.pk != candidate.pk
    promoting = Gate(
        "none_promoting",
        "No other promotion in flight",
        not busy,
        f"candidate #{other_promoting.pk} is promoting" if busy else "none",
    )
    if freeze is None:
        frozen = Gate("no_freeze", "No freeze window", True, "none active")
    elif candidate.freeze_override_reason:
        frozen = Gate(
            "no_freeze",
            "No freeze window",
            True,
            f"glass broken: {candidate.freeze_override_reason}",
        )
    else:
        frozen = Gate(
            "no_freeze",
            "No freeze window",
            False,
            f"frozen until {freeze.ends_at:%Y-%m-%d %H:%M} UTC: {freeze.reason}",
        )
    required = candidate.repository.required_approvals
    approved = Gate("approvals", "Approvals", approvals >= required, f"{approvals} of {required}")
    return [validation, contains, promoting, frozen, approved]


def gates_for(candidate: PromotionCandidate) -> list[Gate]:
    """The checklist with fresh facts from the database (a handful of queries)."""
    production = (
        Branch.objects.filter(
            repository=candidate.repository, kind=BranchKind.PRODUCTION, gone_at__isnull=True
        )
        .values_list("head", flat=True)
        .first()
    )
    return candidate_gates(
        candidate=candidate,
        approvals=live_approvals(candidate).count(),
        production_head=production,
        other_promoting=PromotionCandidate.objects.filter(
            repository=candidate.repository, status=S.PROMOTING
        ).first(),
        freeze=active_freeze(candidate.repository),
    )


# -- promotion -------------------------------------------------------------------------------


def candidate_promote(
    *, candidate: PromotionCandidate, actor: Any, break_glass_reason: str = ""
) -> None:
    """Check every gate under the row lock, mark it promoting, queue the git work.

    A double click or a second person finds it promoting and is refused; the
    database refuses two promoting candidates in one repository.
    """
    from releases.tasks import promote_candidate

    require_permission(actor, "promote_candidate")
    with transaction.atomic():
        Repository.objects.select_for_update().get(pk=candidate.repository_id)
        candidate = _locked(candidate)
        if candidate.status not in (S.APPROVED, S.PROMOTION_FAILED):
            raise ActionRefused(f"A {candidate.get_status_display()} candidate cannot be promoted.")
        freeze = active_freeze(candidate.repository)
        if freeze is not None and break_glass_reason.strip():
            if candidate.kind != CandidateKind.HOTFIX or not actor.has_perm(
                "releases.manage_freeze"
            ):
                raise ActionRefused("Only an admin may break a freeze, and only for a hotfix.")
            candidate.freeze_override_reason = break_glass_reason.strip()
        failed = [gate for gate in gates_for(candidate) if not gate.ok]
        if failed:
            raise ActionRefused(
                "Not every gate holds: " + "; ".join(f"{g.label}: {g.detail}" for g in failed)
            )
        candidate.promoted_by = actor
        candidate.promotion_error = ""
        _transition(
            candidate,
            S.PROMOTING,
            actor=actor,
            action="candidate.promoting",
            payload={"break_glass": candidate.freeze_override_reason},
        )
        transaction.on_commit(lambda: promote_candidate.delay(candidate_id=candidate.pk))


def promotion_tag_message(candidate: PromotionCandidate, tag: str) -> str:
    approvers = ", ".join(
        sorted(a.user.get_username() for a in live_approvals(candidate).select_related("user"))
    )
    run = candidate.validation_run
    evidence = f"run #{run.pk} attempt {run.attempt}: {run.status}" if run is not None else "none"
    if candidate.waived_by_id:
        evidence += f" (waived: {candidate.waiver_reason})"
    changelog = versioning.Changelog.from_list(candidate.changelog).as_markdown()
    return (
        f"Release {tag}\n\n"
        f"Candidate: #{candidate.pk} from {candidate.source_branch} at {candidate.commit}\n"
        f"Approved by: {approvers or 'nobody'}\n"
        f"Validation: {evidence}\n"
        f"Promoted by: {candidate.promoted_by.get_username() if candidate.promoted_by else '-'}\n"
        f"\n{changelog}"
    )


def promotion_merge_and_tag(*, candidate: PromotionCandidate) -> tuple[str, str]:
    """Merge the frozen commit into production (--no-ff), tag it, push both atomically.

    Returns (merge commit, tag). Safe to repeat: if an earlier attempt already
    pushed this candidate's tag, that result is returned. Raises GitError or
    ActionRefused with git's message; nothing is left behind either way.
    """
    from releases.services import clone_dir

    repository = candidate.repository
    tag = versioning.format_tag(candidate.version, repository.tag_style)
    with git.clone_lock(clone_dir(repository.name)):
        repo = _clone(repository)
        repo.fetch()
        existing = git.ref_head(repo, f"refs/tags/{tag}")
        if existing is not None:
            parents = repo.run("rev-list", "--parents", "-n", "1", existing).split()[1:]
            if candidate.commit in parents:
                return existing, tag
            raise ActionRefused(f"The tag {tag} already exists at the origin.")
        production = git.ref_head(repo, f"refs/heads/{repository.production_branch}")
        if production is None:
            raise ActionRefused(f"The origin has no branch {repository.production_branch}.")
        if not git.is_ancestor(repo, production, candidate.commit):
            raise ActionRefused(
                f"Production moved to {production[:10]}, which the candidate does not contain."
            )
        now = timezone.now()
        message = (
            f"Release {tag}: merge {candidate.source_branch} at {candidate.commit[:10]}\n\n"
            f"Promotion candidate #{candidate.pk}."
        )
        merge = git.merge_commit(
            repo,
            base=production,
            other=candidate.commit,
            message=message,
            author=person_identity(candidate.promoted_by),
            committer=git_identity(),
            when=now,
        )
        tag_object = git.annotated_tag(
            repo,
            name=tag,
            target=merge,
            message=promotion_tag_message(candidate, tag),
            tagger=git_identity(),
            when=now,
        )
        git.push_atomic(
            repo,
            {
                f"refs/heads/{repository.production_branch}": merge,
                f"refs/tags/{tag}": tag_object,
            },
        )
    return merge, tag


def promotion_run(*, candidate_id: int) -> str:
    """The promote task's body: git work, then the release row, then a sync."""
    from releases.services import repository_sync

    candidate = PromotionCandidate.objects.select_related(
        "repository", "promoted_by", "validation_run"
    ).get(pk=candidate_id)
    if candidate.status != S.PROMOTING:
        return f"candidate #{candidate_id} is {candidate.status}; nothing to do"
    try:
        merge, tag = promotion_merge_and_tag(candidate=candidate)
    except (git.GitError, ActionRefused) as error:
        with transaction.atomic():
            locked = _locked(candidate)
            if locked.status == S.PROMOTING:
                locked.promotion_error = str(error)
                _transition(
                    locked,
                    S.PROMOTION_FAILED,
                    actor=None,
                    action="candidate.promotion_failed",
                    reason=str(error),
                )
        return f"promotion of #{candidate_id} failed: {error}"
    with transaction.atomic():
        locked = _locked(candidate)
        if locked.status != S.PROMOTING:
            return f"candidate #{candidate_id} is {locked.status}; nothing to do"
        release, _ = Release.objects.update_or_create(
            repository=locked.repository,
            version=locked.version,
            defaults={
                "tag": tag,
                "tags": [tag],
                "commit": merge,
                "kind": ReleaseKind.HOTFIX
                if locked.kind == CandidateKind.HOTFIX
                else ReleaseKind.PROMOTION,
                "released_by": locked.promoted_by,
                "tagged_at": timezone.now(),
                "changelog": locked.changelog,
                "on_production": True,
                "tagger_name": settings.EWSDASH_GIT_NAME,
                "tagger_email": settings.EWSDASH_GIT_EMAIL,
            },
        )
        locked.release = release
        _transition(
            locked,
            S.RELEASED,
            actor=locked.promoted_by,
            action="candidate.released",
            payload={
                "version": locked.version,
                "tag": tag,
                "commit": merge,
                "run": locked.validation_run_id,
            },
        )
    repository_sync(repository=candidate.repository, force=True)
    return f"released {tag} at {merge[:10]}"


# -- kept current by sync ---------------------------------------------------------------------


def candidates_refresh(*, repository: Repository, repo: git.GitRepo, heads: dict[str, str]) -> None:
    """After a fetch: re-check each open candidate against production and its branch.

    Runs inside sync's transaction, after branches were recorded. A candidate whose
    frozen commit is no longer on its source branch (history rewritten at the
    origin) is superseded; otherwise the page learns how far the branch moved.
    """
    production = heads.get(repository.production_branch)
    for candidate in (
        PromotionCandidate.objects.select_for_update()
        .filter(repository=repository, status__in=OPEN)
        .exclude(status=S.PROMOTING)
    ):
        branch_head = heads.get(candidate.source_branch)
        if branch_head is None or not git.is_ancestor(repo, candidate.commit, branch_head):
            _void_decisions(candidate, "frozen commit left the source branch")
            _transition(
                candidate,
                S.SUPERSEDED,
                actor=None,
                action="candidate.superseded",
                reason=f"Its commit {candidate.commit[:10]} is no longer on "
                f"{candidate.source_branch} (history rewritten at the origin).",
            )
            continue
        changed = []
        moved = int(repo.run("rev-list", "--count", f"{candidate.commit}..{branch_head}"))
        if moved != candidate.branch_moved_by:
            candidate.branch_moved_by = moved
            changed.append("branch_moved_by")
        if production and production != candidate.checked_production_head:
            candidate.checked_production_head = production
            candidate.contains_production_head = git.is_ancestor(repo, production, candidate.commit)
            changed += ["checked_production_head", "contains_production_head"]
        if changed:
            candidate.save(update_fields=[*changed, "updated_at"])

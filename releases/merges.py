"""Branches merged without ancestry: squash merges and cherry-picks (after a sync).

A branch whose head is an ancestor of production or development is merged, as the
counts of the sync say. One squash-merged (views-models #207) or cherry-picked is not an
ancestor, yet its changes are in: `branch_merges_record` finds them with
`GitRepo.contained_without_ancestry` (merging it would change nothing: "tree"; every
commit has an equal patch: "patch-id") and records which way it was found and where.

It runs on a worker after a sync that changed something, outside the sync so the sync
stays fast: the tests cost 5-200 ms a branch on views-models. A branch is checked again
only when its head or production's or development's head moved since its last check,
with the cheap tree test only when its own head did not move; a branch found merged
stays merged while its head does not move.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import transaction

from releases import git
from releases.clones import clone_dir
from releases.models import Branch, BranchKind, Repository

PATCH_LIMIT = 200  # commits of its own above which a branch gets the tree test only


def branch_merges_record(*, repository: Repository) -> int:
    """Check the branches that need it; returns how many were checked."""
    path = clone_dir(repository.name)
    rows = list(
        Branch.objects.filter(repository=repository, gone_at__isnull=True).exclude(
            kind__in=[BranchKind.PRODUCTION, BranchKind.DEVELOPMENT]
        )
    )
    heads = dict(
        Branch.objects.filter(
            repository=repository,
            name__in=[repository.production_branch, repository.development_branch],
        ).values_list("name", "head")
    )
    production = heads.get(repository.production_branch)
    development = heads.get(repository.development_branch)
    if not path.exists() or not production or not development:
        return 0
    bases = f"{production}:{development}"
    todo = [
        b
        for b in rows
        if not b.merged_by
        and b.ahead_of_production > 0
        and b.ahead_of_development > 0
        and b.merge_checked != bases
    ]
    repo = git.GitRepo(path)
    targets = [
        (repository.production_branch, production, "ahead_of_production"),
        (repository.development_branch, development, "ahead_of_development"),
    ]

    def probe(branch: Branch) -> tuple[Branch, str, str]:
        # A head checked before (against older bases) had its patch-id test then.
        limit = 0 if branch.merge_checked else PATCH_LIMIT
        for name, head, ahead in targets:
            try:
                how = repo.contained_without_ancestry(
                    head, branch.head, ahead=getattr(branch, ahead), patch_limit=limit
                )
            except git.GitError:
                how = ""
            if how:
                return branch, how, name
        return branch, "", ""

    workers = settings.EWSDASH_GIT_WORKERS
    if len(todo) > 1 and workers > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            found = list(pool.map(probe, todo))
    else:
        found = [probe(branch) for branch in todo]
    with transaction.atomic():
        for branch, how, into in found:
            # Conditional: a sync that moved the branch meanwhile wins.
            Branch.objects.filter(pk=branch.pk, head=branch.head, merged_by="").update(
                merged_by=how, merged_into=into, merge_checked=bases
            )
    return len(found)

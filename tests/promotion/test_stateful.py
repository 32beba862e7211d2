"""Random sequences of create / approve / reject / push / promote / rollback / hotfix by
random users, against a real origin. After every step: versions strictly increase, every
release's tag points at its commit at the origin, production is the latest release (or
sync reports how far past it), no forbidden action succeeded, the audit chain verifies."""

from __future__ import annotations

import itertools
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from ewsdash.roles import role_of
from releases import candidates, operation_runner, operations, services, versioning
from releases.audit import audit_verify
from releases.errors import ActionRefused
from releases.models import PromotionCandidate, Release
from tests.conftest import USERS
from tests.promotion.factories import carried_out
from tests.support.gitrepo import GitWorld

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

EXAMPLES = 30
STEPS = 25
NAMES = list(USERS)
# Which roles each action needs (the design's role table).
ALLOWED = {
    "create": {"admin", "release manager"},
    "approve": {"admin", "release manager"},
    "reject": {"admin", "release manager"},
    "waive": {"admin"},
    "promote": {"admin", "release manager"},
    "rollback": {"admin"},
    "hotfix": {"admin", "release manager"},
    "back_merge": {"admin", "release manager"},
}
counter = itertools.count()
STATS = {"steps": 0, "examples": 0, "succeeded": 0, "refused": 0, "releases": 0, "rollbacks": 0}


class PromotionMachine(RuleBasedStateMachine):
    def __init__(self, users: dict) -> None:
        super().__init__()
        STATS["examples"] += 1
        self.users = users
        self.root = Path(tempfile.mkdtemp(prefix="ews-stateful-"))
        self.world = GitWorld(self.root / "git")
        self.world.commit("chore: start", files={"README.md": "x\n"})
        self.world.checkout("development", new_from="production")
        self.world.commit("feat: first model", files={"models/a/m.py": "v=0\n"})
        self.world.push_all()
        self.repository = services.repository_create(
            actor="test", name=f"machine-{next(counter)}", origin=str(self.world.origin)
        )
        self.changes = itertools.count(1)

    def teardown(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    # -- helpers --------------------------------------------------------------------------

    def attempt(self, action: str, username: str, call) -> bool:
        """Run an action; a success by a role the table forbids fails the test."""
        STATS["steps"] += 1
        try:
            call()
        except ActionRefused:
            STATS["refused"] += 1
            return False
        role = role_of(self.users[username])
        assert role in ALLOWED[action], f"{username} ({role}) succeeded at {action}"
        STATS["succeeded"] += 1
        return True

    def candidates(self) -> list[PromotionCandidate]:
        return list(PromotionCandidate.objects.filter(repository=self.repository).order_by("pk"))

    # -- rules ----------------------------------------------------------------------------

    @rule()
    def push_development_commit(self) -> None:
        self.world.checkout("development")
        n = next(self.changes)
        self.world.commit(f"feat: change {n}", files={f"models/a/change_{n}.py": f"v={n}\n"})
        self.world.push("development")

    @rule(username=st.sampled_from(NAMES))
    def create_candidate(self, username: str) -> None:
        self.attempt(
            "create",
            username,
            lambda: candidates.candidate_create(
                repository=self.repository, actor=self.users[username]
            ),
        )

    @rule(username=st.sampled_from(NAMES), index=st.integers(0, 5))
    def waive(self, username: str, index: int) -> None:
        found = self.candidates()
        if found:
            candidate = found[index % len(found)]
            self.attempt(
                "waive",
                username,
                lambda: candidates.candidate_waive_validation(
                    candidate=candidate, actor=self.users[username], reason="stateful"
                ),
            )

    @rule(username=st.sampled_from(NAMES), index=st.integers(0, 5))
    def approve(self, username: str, index: int) -> None:
        found = self.candidates()
        if found:
            candidate = found[index % len(found)]
            ok = self.attempt(
                "approve",
                username,
                lambda: candidates.candidate_approve(
                    candidate=candidate, actor=self.users[username]
                ),
            )
            if ok:
                assert candidate.created_by_id != self.users[username].pk

    @rule(username=st.sampled_from(NAMES), index=st.integers(0, 5))
    def reject(self, username: str, index: int) -> None:
        found = self.candidates()
        if found:
            candidate = found[index % len(found)]
            self.attempt(
                "reject",
                username,
                lambda: candidates.candidate_reject(
                    candidate=candidate, actor=self.users[username], reason="stateful"
                ),
            )

    @rule(username=st.sampled_from(NAMES), index=st.integers(0, 5))
    def promote(self, username: str, index: int) -> None:
        found = self.candidates()
        if not found:
            return
        candidate = found[index % len(found)]
        if self.attempt(
            "promote",
            username,
            lambda: candidates.candidate_promote(candidate=candidate, actor=self.users[username]),
        ):
            if operation_runner.promotion_run(candidate_id=candidate.pk).startswith("released"):
                STATS["releases"] += 1

    @rule(username=st.sampled_from(NAMES), index=st.integers(0, 5))
    def rollback(self, username: str, index: int) -> None:
        releases = list(Release.objects.filter(repository=self.repository).order_by("pk"))
        if len(releases) >= 2:
            target = releases[index % len(releases)]
            if self.attempt(
                "rollback",
                username,
                lambda: carried_out(
                    operations.release_rollback(
                        repository=self.repository,
                        target=target,
                        actor=self.users[username],
                        reason="stateful",
                    )
                ),
            ):
                STATS["rollbacks"] += 1

    @rule(index=st.integers(0, 5))
    def admin_rolls_back(self, index: int) -> None:
        """Rollbacks need an admin and an earlier release: give that path its own rule."""
        self.rollback("admin", index)

    @rule(username=st.sampled_from(NAMES))
    def hotfix(self, username: str) -> None:
        name = f"fix-{next(self.changes)}"
        if self.attempt(
            "hotfix",
            username,
            lambda: carried_out(
                operations.hotfix_cut(
                    repository=self.repository, actor=self.users[username], name=name
                )
            ),
        ):
            self.world.git("fetch", "--quiet", "origin")
            self.world.git("checkout", "--quiet", "-b", f"hotfix/{name}", f"origin/hotfix/{name}")
            self.world.commit(f"fix: hotfix {name}", files={f"hot/{name}.py": "h=1\n"})
            self.world.push(f"hotfix/{name}")
            self.attempt(
                "create",
                "rm-ana",
                lambda: candidates.candidate_create(
                    repository=self.repository,
                    actor=self.users["rm-ana"],
                    source_branch=f"hotfix/{name}",
                ),
            )

    @rule()
    def release_through_the_whole_path(self) -> None:
        """Back-merge if needed, new work, create, waive, two approvals, promote."""
        admin, ana, ben = self.users["admin"], self.users["rm-ana"], self.users["rm-ben"]
        try:
            carried_out(
                operations.production_merge_into_development(repository=self.repository, actor=ana)
            )
        except ActionRefused:
            pass  # development already contains production
        self.world.git("fetch", "--quiet", "origin")
        self.world.checkout("development")
        self.world.git("reset", "--quiet", "--hard", "origin/development")
        self.push_development_commit()
        candidate = candidates.candidate_create(repository=self.repository, actor=ana)
        candidates.candidate_waive_validation(candidate=candidate, actor=admin, reason="path")
        candidates.candidate_approve(candidate=candidate, actor=ben)
        candidates.candidate_approve(candidate=candidate, actor=admin)
        candidates.candidate_promote(candidate=candidate, actor=ben)
        assert operation_runner.promotion_run(candidate_id=candidate.pk).startswith("released")
        STATS["releases"] += 1

    @rule(username=st.sampled_from(NAMES))
    def back_merge(self, username: str) -> None:
        if self.attempt(
            "back_merge",
            username,
            lambda: carried_out(
                operations.production_merge_into_development(
                    repository=self.repository, actor=self.users[username]
                )
            ),
        ):
            self.world.git("fetch", "--quiet", "origin")
            self.world.checkout("development")
            self.world.git("reset", "--quiet", "--hard", "origin/development")

    # -- invariants -----------------------------------------------------------------------

    @invariant()
    def versions_strictly_increase(self) -> None:
        versions = [
            versioning.parse_version_tag(v).version  # type: ignore[union-attr]
            for v in Release.objects.filter(repository=self.repository)
            .order_by("pk")
            .values_list("version", flat=True)
        ]
        assert versions == sorted(versions) and len(set(versions)) == len(versions)

    @invariant()
    def tags_point_at_their_commits_and_production_is_the_latest(self) -> None:
        releases = list(Release.objects.filter(repository=self.repository).order_by("pk"))
        for release in releases:
            assert self.world.origin_git("rev-parse", f"{release.tag}^{{commit}}") == (
                release.commit
            )
        production = self.world.origin_git("rev-parse", "production")
        if releases:
            assert production == releases[-1].commit

    @invariant()
    def audit_chain_verifies(self) -> None:
        assert audit_verify().ok

    @invariant()
    def no_candidate_promoting_after_a_step(self) -> None:
        assert not PromotionCandidate.objects.filter(
            repository=self.repository, status="promoting"
        ).exists()


# A fixed amount of work (EXAMPLES × STEPS): 82 s alone, 412 s while other suites loaded
# the machine (load average 14 on 2 cores). The time-out is for a hang, not for slowness.
@pytest.mark.timeout(1500)
def test_random_governance_sequences_keep_the_invariants(users, monkeypatch):
    from hypothesis.stateful import run_state_machine_as_test

    monkeypatch.setattr("ewsdash.queue.enqueue", lambda task, **kw: None)
    run_state_machine_as_test(
        lambda: PromotionMachine(users),
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=False,
        ),
    )
    print(
        f"\nstateful: {STATS['examples']} examples, {STATS['steps']} random actions "
        f"({STATS['succeeded']} succeeded, {STATS['refused']} refused), "
        f"{STATS['releases']} releases, {STATS['rollbacks']} rollbacks"
    )
    assert STATS["examples"] >= EXAMPLES

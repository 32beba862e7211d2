"""Two people approve and promote the same candidate at the same moment, 50 times.

Real row locks: on PostgreSQL `select_for_update` plus the partial unique index;
on SQLite write transactions run one at a time. Either way exactly one release
comes out of each round.
"""

import threading
from functools import partial

import pytest
from django.db import close_old_connections, connection

from ewsdash import queue
from releases import candidates, operation_runner, services
from releases.audit import audit_verify
from releases.errors import ActionRefused
from releases.models import Operation, PromotionCandidate, Release
from tests.promotion.conftest import make_promotable

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ROUNDS = 50


def race(*actions):
    """Run the actions in threads released together; return what each raised or returned."""
    barrier = threading.Barrier(len(actions))
    results: list = [None] * len(actions)

    def run(index, action):
        try:
            barrier.wait()
            results[index] = ("ok", action())
        except ActionRefused as error:
            results[index] = ("refused", str(error))
        except Exception as error:  # noqa: BLE001 - reported in the assertion
            results[index] = ("error", repr(error))
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_fifty_rounds_of_simultaneous_approve_and_promote(users, world, monkeypatch):
    queued: list[int] = []

    def enqueue(task: str, **kwargs) -> None:
        if task == queue.OPERATION_RUN:
            queued.append(Operation.objects.get(pk=kwargs["operation_id"]).candidate_id)

    monkeypatch.setattr("ewsdash.queue.enqueue", enqueue)
    make_promotable(world)
    repository = services.repository_create(actor="test", name="pipeline", origin=str(world.origin))
    outcomes = {"promote_refused": 0}
    for round_number in range(ROUNDS):
        world.checkout("development")
        world.commit(f"feat: change {round_number}")
        world.push("development")
        candidate = candidates.candidate_create(repository=repository, actor=users["rm-ana"])
        candidates.candidate_waive_validation(
            candidate=candidate, actor=users["admin"], reason="concurrency test"
        )

        def approve_then_promote(user, pk=candidate.pk):
            def act():
                fresh = PromotionCandidate.objects.get(pk=pk)
                try:
                    candidates.candidate_approve(candidate=fresh, actor=user)
                except ActionRefused:
                    pass
                candidates.candidate_promote(candidate=fresh, actor=user)

            return act

        queued.clear()
        results = race(approve_then_promote(users["rm-ben"]), approve_then_promote(users["admin"]))
        assert not [r for r in results if r[0] == "error"], results
        succeeded = [r for r in results if r[0] == "ok"]
        outcomes["promote_refused"] += len(results) - len(succeeded)
        # Whoever approved second finds it approved; exactly one promote wins.
        assert len(succeeded) == 1, results
        assert queued == [candidate.pk]
        # A double delivery of the task must not release twice.
        run_task = partial(operation_runner.promotion_run, candidate_id=candidate.pk)
        race(run_task, run_task)
        candidate.refresh_from_db()
        assert candidate.status == "released", candidate.status_reason
        world.git("fetch", "--quiet", "origin")
        world.git("merge", "--quiet", "--no-ff", "-m", "back-merge", "origin/production")
        world.push("development")

    promoted = Release.objects.filter(repository=repository, kind="promotion")
    versions = list(promoted.values_list("version", flat=True))
    assert len(versions) == len(set(versions)) == ROUNDS
    tags = world.origin_git("tag", "-l").split()
    assert len(tags) == len(set(tags)) == ROUNDS + 1  # and the imported v1.0.0
    for release in Release.objects.filter(repository=repository):
        assert world.origin_git("rev-parse", f"{release.tag}^{{commit}}") == release.commit
    assert audit_verify().ok
    print(
        f"\n{ROUNDS} rounds: {ROUNDS} releases, {len(tags)} tags, "
        f"{outcomes['promote_refused']} concurrent promotes refused, audit chain intact"
    )

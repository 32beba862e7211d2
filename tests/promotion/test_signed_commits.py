"""A repository may require signed commits: `git verify-commit` against its SSH allowed
signers (ssh-keygen's format, checked offline) decides a gate of its own."""

import subprocess

import pytest

from releases import candidates
from releases.gates import gate_facts, gate_signed_commits
from tests.promotion.conftest import waive

pytestmark = pytest.mark.django_db


@pytest.fixture
def signing_key(tmp_path):
    key = tmp_path / "signing-key"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "pat", "-f", str(key)], check=True
    )
    return key


def sign_next_commits(world, key) -> None:
    world.git("config", "gpg.format", "ssh")
    world.git("config", "user.signingkey", str(key))
    world.git("config", "commit.gpgsign", "true")


def require(repo, key, email="pat@pipeline.example"):
    public = (key.parent / "signing-key.pub").read_text().split()
    repo.require_signed_commits = True
    repo.allowed_signers = f'{email} namespaces="git" {public[0]} {public[1]}'
    repo.save()


def make_candidate(repo, users, capture):
    with capture(execute=False):
        made = candidates.candidate_create(repository=repo, actor=users["rm-ana"])
    made.refresh_from_db()
    return made


def test_unsigned_commits_fail_the_gate_and_promotion(
    repo, users, world, signing_key, django_capture_on_commit_callbacks
):
    require(repo, signing_key)
    candidate = make_candidate(repo, users, django_capture_on_commit_callbacks)
    assert candidate.unsigned_commits  # the test world's commits are unsigned
    waive(candidate, users)
    candidates.candidate_approve(candidate=candidate, actor=users["rm-ben"])
    candidates.candidate_approve(candidate=candidate, actor=users["admin"])
    candidate.refresh_from_db()

    gate = gate_signed_commits(gate_facts(candidate=candidate))
    assert not gate.ok and "without an allowed signature" in gate.detail
    with pytest.raises(candidates.ActionRefused, match="Signed commits"):
        candidates.candidate_promote(candidate=candidate, actor=users["rm-ana"])


def test_commits_signed_by_an_allowed_signer_pass(
    repo, users, world, signing_key, django_capture_on_commit_callbacks
):
    require(repo, signing_key)
    # Production's line is the base: sign everything development adds past it.
    world.checkout("development")
    world.git("reset", "--hard", "production")
    sign_next_commits(world, signing_key)
    world.commit("feat: signed work", files={"signed.txt": "1\n"})
    world.push("development")
    candidate = make_candidate(repo, users, django_capture_on_commit_callbacks)
    assert candidate.unsigned_commits == []

    assert gate_signed_commits(gate_facts(candidate=candidate)).ok


def test_a_signature_by_a_key_not_allowed_fails(
    repo, users, world, signing_key, tmp_path, django_capture_on_commit_callbacks
):
    other = tmp_path / "other-key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    require(repo, signing_key)
    world.checkout("development")
    world.git("reset", "--hard", "production")
    sign_next_commits(world, other)
    world.commit("feat: signed by a stranger", files={"s.txt": "1\n"})
    world.push("development")
    candidate = make_candidate(repo, users, django_capture_on_commit_callbacks)
    assert len(candidate.unsigned_commits) == 1

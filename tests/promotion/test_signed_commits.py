"""A repository may require signed commits: `git verify-commit` against its SSH allowed
signers (ssh-keygen's format) or GPG public keys, checked offline, decides a gate of its own;
where it requires signed tags, every sync runs `git verify-tag` on the release tags it imports."""

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from django.urls import reverse

from releases import candidates, sync
from releases.gates import gate_facts, gate_signed_commits
from releases.models import AuditEvent, Release
from tests.api.conftest import api_client  # noqa: F401
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


# -- GPG keys, and release tags --------------------------------------------------------------


@pytest.fixture
def gpg_key(monkeypatch):
    """A GPG key made for the test (no passphrase) in a keyring of its own; git in the test
    world signs with it. ewsdash never sees this keyring: it imports the exported public
    key into a scratch one of its own."""
    home = Path(tempfile.mkdtemp(prefix="g", dir="/tmp"))  # gpg-agent's socket path is short
    home.chmod(0o700)
    gpg = ["gpg", "--homedir", str(home), "--batch", "--pinentry-mode", "loopback"]
    subprocess.run(
        [*gpg, "--passphrase", "", "--quick-gen-key", "Pat Author <pat@pipeline.example>"]
        + ["ed25519", "sign", "never"],
        check=True,
        capture_output=True,
    )
    listing = subprocess.run(
        [*gpg, "--with-colons", "--list-secret-keys"], check=True, capture_output=True, text=True
    ).stdout
    fingerprint = next(line.split(":")[9] for line in listing.splitlines() if line[:4] == "fpr:")
    public = subprocess.run(
        [*gpg, "--armor", "--export", fingerprint], check=True, capture_output=True, text=True
    ).stdout
    monkeypatch.setenv("GNUPGHOME", str(home))
    yield fingerprint, public
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], check=False)
    shutil.rmtree(home, ignore_errors=True)


def sign_next_commits_with_gpg(world, fingerprint: str) -> None:
    world.git("config", "gpg.format", "openpgp")
    world.git("config", "user.signingkey", fingerprint)
    world.git("config", "commit.gpgsign", "true")


def test_commits_signed_with_a_configured_gpg_key_pass(
    repo, users, world, gpg_key, django_capture_on_commit_callbacks
):
    fingerprint, public = gpg_key
    repo.require_signed_commits, repo.gpg_public_keys = True, public
    repo.save()
    world.checkout("development")
    world.git("reset", "--hard", "production")
    sign_next_commits_with_gpg(world, fingerprint)
    world.commit("feat: gpg-signed work", files={"g.txt": "1\n"})
    world.push("development")

    candidate = make_candidate(repo, users, django_capture_on_commit_callbacks)

    assert candidate.unsigned_commits == []
    assert gate_signed_commits(gate_facts(candidate=candidate)).ok


def test_a_gpg_signature_whose_key_is_not_configured_fails(
    repo, users, world, gpg_key, signing_key, django_capture_on_commit_callbacks
):
    fingerprint, _public = gpg_key
    require(repo, signing_key)  # only an SSH key is allowed
    world.checkout("development")
    world.git("reset", "--hard", "production")
    sign_next_commits_with_gpg(world, fingerprint)
    world.commit("feat: signed by a key nobody configured", files={"g.txt": "1\n"})
    world.push("development")

    candidate = make_candidate(repo, users, django_capture_on_commit_callbacks)

    assert len(candidate.unsigned_commits) == 1
    assert not gate_signed_commits(gate_facts(candidate=candidate)).ok


def push_tag(world, name: str, *, sign: list[str] | None = None) -> None:
    """An annotated tag on production's head, signed with the `git tag` options `sign`."""
    world.checkout("production")
    world.git("tag", *(sign or []), "-a", "-m", f"Release {name}", name)
    world.push(f"refs/tags/{name}")


def test_release_tags_pushed_outside_are_verified_at_sync_and_shown(
    repo, users, world, gpg_key, signing_key, login
):
    fingerprint, public = gpg_key
    public_ssh = (signing_key.parent / "signing-key.pub").read_text().split()
    world.git("config", "user.signingkey", str(signing_key))
    world.git("config", "gpg.format", "ssh")
    push_tag(world, "v1.0.1", sign=["-s"])
    world.git("config", "gpg.format", "openpgp")
    world.git("config", "user.signingkey", fingerprint)
    push_tag(world, "v1.0.2", sign=["-s"])
    stranger = signing_key.parent / "stranger-key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)], check=True)
    world.git("config", "gpg.format", "ssh")
    world.git("config", "user.signingkey", str(stranger))
    push_tag(world, "v1.0.3", sign=["-s"])
    repo.require_signed_tags = True
    repo.allowed_signers = f'pat@pipeline.example namespaces="git" {public_ssh[0]} {public_ssh[1]}'
    repo.gpg_public_keys = public
    repo.save()

    sync.repository_sync(repository=repo, force=True)

    problems = {
        r.tag: r.signature_problem
        for r in Release.objects.filter(repository=repo, signature_checked_at__isnull=False)
    }
    assert problems["v1.0.1"] == "" and problems["v1.0.2"] == ""  # SSH, then GPG
    assert problems["v1.0.0"] == "not signed"  # the test world's first release
    assert problems["v1.0.3"].startswith("not signed by an allowed signer")
    (event,) = AuditEvent.objects.filter(action="release.tag_signatures")
    assert event.payload["verified"] == ["v1.0.1", "v1.0.2"]
    assert set(event.payload["problems"]) == {"v1.0.0", "v1.0.3"}
    sync.repository_sync(repository=repo, force=True)  # nothing changed: no new event
    assert AuditEvent.objects.filter(action="release.tag_signatures").count() == 1
    html = login("viewer").get(reverse("release_list", kwargs={"name": "pipeline"})).content
    assert html.decode().count('data-testid="tag-signed"') == 2
    assert html.decode().count('data-testid="tag-signature-problem"') == 2


def test_tags_are_not_checked_where_the_repository_does_not_require_it(repo):
    assert not Release.objects.filter(repository=repo, signature_checked_at__isnull=False)


def test_unusable_gpg_keys_say_so_on_every_tag_and_the_sync_goes_on(repo):
    repo.require_signed_tags, repo.gpg_public_keys = True, "not a key"
    repo.save()

    outcome = sync.repository_sync(repository=repo, force=True)

    assert not outcome.error
    release = Release.objects.get(repository=repo, tag="v1.0.0")
    assert release.signature_problem.startswith(
        "not checked: the configured GPG keys cannot be imported"
    )


def test_the_api_gives_each_releases_tag_signature(repo, signing_key, world, api_client):  # noqa: F811
    public_ssh = (signing_key.parent / "signing-key.pub").read_text().split()
    world.git("config", "gpg.format", "ssh")
    world.git("config", "user.signingkey", str(signing_key))
    push_tag(world, "v1.0.1", sign=["-s"])
    repo.require_signed_tags = True
    repo.allowed_signers = f'pat@pipeline.example namespaces="git" {public_ssh[0]} {public_ssh[1]}'
    repo.save()
    sync.repository_sync(repository=repo, force=True)

    body = api_client("viewer", "read").get("/api/v1/repositories/pipeline/releases").json()

    by_tag = {r["tag"]: r["tag_signature"] for r in body["results"]}
    assert by_tag == {"v1.0.1": "verified", "v1.0.0": "not signed"}

"""Issue 17 items 3-5: a real promotion's signed attestation, verified online and from a
fresh clone, and each way of breaking it detected."""

from __future__ import annotations

import base64
import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from monitoring.artifacts import artifact_path, artifact_store
from monitoring.models import CheckArtifact
from releases import (
    attestation_verify,
    attestations,
    candidates,
    operation_runner,
    operations,
    services,
    signing,
    sync,
)
from releases.models import AuditEvent, Release, ReleaseAttestation
from tests.promotion.conftest import make_promotable
from tests.sandbox.conftest import needs_bwrap, working_bwrap
from tests.support.gitrepo import BASE_ENV
from tests.validation_runs.conftest import commit_on, no_enqueue, run_queued_inline, toml

__all__ = ["no_enqueue", "working_bwrap"]  # fixtures

pytestmark = [pytest.mark.django_db, needs_bwrap]

MANIFEST = toml(
    """
    [[check]]
    name = "predict"
    kind = "command"
    run = "mkdir -p {artifacts}/out && printf 'month_id,value\\n1,2\\n' > {artifacts}/out/p.csv"
    timeout = "1m"
    """
)
ARTIFACT = "artifact predict/out/p.csv"


def promoted(world, users) -> Release:
    """A candidate validated by a real check (one artifact), approved twice, promoted by
    the operation runner: release 1.1.0 and its attestation."""
    commit_on(world, "production", "ci: declare the checks", {"ewsdash.toml": MANIFEST})
    make_promotable(world)
    repository = services.repository_create(actor="test", name="pipeline", origin=str(world.origin))
    sync.repository_sync(repository=repository)
    candidate = candidates.candidate_create(repository=repository, actor=users["rm-ana"])
    run_queued_inline(candidate.validation_run)
    candidates.candidates_follow_run(run_id=candidate.validation_run_id)
    candidates.candidate_approve(candidate=candidate, actor=users["rm-ben"])
    candidates.candidate_approve(candidate=candidate, actor=users["admin"])
    candidates.candidate_promote(candidate=candidate, actor=users["rm-ben"])
    assert operation_runner.promotion_run(candidate_id=candidate.pk).startswith("released v1.1.0")
    return Release.objects.get(repository=repository, version="1.1.0")


def fresh_clone(world, root: Path) -> Path:
    """A plain clone of the origin, plus the attestation refs (as the README says)."""
    env = {**BASE_ENV, "PATH": "/usr/bin:/bin"}
    subprocess.run(["git", "clone", "-q", str(world.origin), str(root)], check=True, env=env)
    fetch = ["git", "-C", str(root), "fetch", "-q", "origin", "+refs/ewsdash/*:refs/ewsdash/*"]
    subprocess.run(fetch, check=True, env=env)
    return root


def key_file(tmp_path: Path, *args: str) -> Path:
    out = io.StringIO()
    call_command("release", "key", *args, stdout=out)
    path = tmp_path / f"keys{len(args)}.pub"
    path.write_text(out.getvalue())
    return path


def offline(clone: Path, keys: Path, version: str = "1.1.0", *extra: str) -> dict:
    """`release verify --offline --json`: (the report, the exit status)."""
    out = io.StringIO()
    args = ["verify", "pipeline", version, "--offline", str(clone), "--key", str(keys), "--json"]
    try:
        call_command("release", *args, *extra, stdout=out)
        status = 0
    except SystemExit as leaving:
        status = int(leaving.code or 0)
    return {**json.loads(out.getvalue()), "status": status}


def failed(report: dict) -> list[str]:
    return [f["what"] for f in report["findings"] if f["ok"] is False]


def statements_of(bundle: str) -> list[dict]:
    return [
        json.loads(base64.b64decode(json.loads(line)["payload"])) for line in bundle.splitlines()
    ]


def stored_bundle(release: Release) -> str:
    return artifact_path(release.attestation.bundle.sha256).read_text()


def origin_bundle(world, version: str) -> str:
    return world.origin_git("show", f"refs/ewsdash/attestations/{version}:attestation.intoto.jsonl")


def push_bundle(world, version: str, bundle: str) -> None:
    """Replace the attestation at the origin (what someone with push access could do)."""
    path = world.root / "edited.jsonl"
    path.write_text(bundle)
    blob = world.origin_git("hash-object", "-w", str(path))
    tree = _mktree(world, blob)
    commit = world.origin_git("commit-tree", tree, "-m", "edited")
    world.origin_git("update-ref", f"refs/ewsdash/attestations/{version}", commit)


def _mktree(world, blob: str) -> str:
    done = subprocess.run(
        ["git", "--git-dir", str(world.origin), "mktree"],
        input=f"100644 blob {blob}\tattestation.intoto.jsonl\n",
        capture_output=True,
        text=True,
        check=True,
        env=world.env(),
    )
    return done.stdout.strip()


def edited(bundle: str, change) -> str:
    """The bundle with the release predicate changed and its old signature kept."""
    lines = []
    for line in bundle.splitlines():
        envelope = json.loads(line)
        statement = json.loads(base64.b64decode(envelope["payload"]))
        if statement["predicateType"] == attestations.RELEASE_PREDICATE:
            change(statement["predicate"])
            envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
        lines.append(json.dumps(envelope))
    return "\n".join(lines) + "\n"


def test_a_promotion_is_attested_pushed_and_verifies_online_and_offline(
    world, users, no_enqueue, tmp_path, django_assert_num_queries, settings
):
    release = promoted(world, users)
    attestation = release.attestation
    tag_commit = world.origin_git("rev-parse", "v1.1.0^{commit}")
    assert release.commit == tag_commit
    # Stored (file + row) and pushed beside the tag in the same push.
    bundle = stored_bundle(release)
    assert origin_bundle(world, "1.1.0") == bundle.rstrip("\n")
    assert (
        world.origin_git("rev-parse", "refs/ewsdash/attestations/1.1.0") == attestation.git_commit
    )
    assert AuditEvent.objects.filter(action="release.attested", object_id=str(release.pk)).exists()

    statements = statements_of(bundle)
    assert [s["predicateType"] for s in statements] == [
        attestations.PROVENANCE,
        attestations.TEST_RESULT,
        attestations.VERIFICATION_SUMMARY,
        attestations.RELEASE_PREDICATE,
    ]
    assert {s["_type"] for s in statements} == {"https://in-toto.io/Statement/v1"}
    subject = [{"name": "v1.1.0", "digest": {"gitCommit": tag_commit}}]
    assert all(s["subject"] == subject for s in statements)
    provenance, test_result, summary, facts = (s["predicate"] for s in statements)
    stored = CheckArtifact.objects.get(check_result__name="predict", name="out/p.csv")
    assert provenance["runDetails"]["byproducts"][0]["digest"] == {"sha256": stored.artifact.sha256}
    assert (test_result["result"], test_result["passedTests"]) == ("PASSED", ["predict"])
    assert summary["verificationResult"] == "PASSED"
    assert facts["checks"][0]["artifacts"][0]["sha256"] == stored.artifact.sha256
    assert facts["manifest"]["gitBlob"] == world.origin_git(
        "rev-parse", "production^1:ewsdash.toml"
    )
    assert [a["username"] for a in facts["approvals"]] == ["rm-ben", "admin"]
    assert all(g["ok"] for g in facts["gates"])
    assert facts["tagObject"] == world.origin_git("rev-parse", "v1.1.0")

    online = attestation_verify.attestation_verify(release=release)
    assert online.ok, online.failures
    assert ARTIFACT in [f.what for f in online.findings if f.ok]
    out = io.StringIO()
    call_command("release", "verify", "pipeline", "v1.1.0", "--json", "--fetch", stdout=out)
    assert json.loads(out.getvalue())["ok"] is True

    # From a fresh clone and the public key alone: no database query at all.
    clone, keys = fresh_clone(world, tmp_path / "fresh"), key_file(tmp_path)
    with django_assert_num_queries(0):
        report = offline(clone, keys)
    assert (report["ok"], report["status"]) == (True, 0)
    artifact = next(f for f in report["findings"] if f["what"] == ARTIFACT)
    assert artifact["ok"] is None and "not checked" in artifact["detail"]
    with_store = offline(clone, keys, "1.1.0", "--artifacts", str(settings.EWSDASH_ARTIFACTS_DIR))
    assert next(f for f in with_store["findings"] if f["what"] == ARTIFACT)["ok"] is True


def readme_recipe() -> str:
    """The README's "With ssh-keygen alone" shell block."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    after = readme.split("With ssh-keygen alone, for envelope N of the bundle:", 1)[1]
    return after.split("```sh\n", 1)[1].split("```", 1)[0]


def test_ssh_keygen_alone_verifies_an_envelope_as_the_readme_says(
    world, users, no_enqueue, tmp_path
):
    release = promoted(world, users)
    clone = fresh_clone(world, tmp_path / "fresh")
    shutil.copy(key_file(tmp_path), clone / "ewsdash.pub")
    script = readme_recipe().replace("1.4.0", "1.1.0")
    env = {**BASE_ENV, "PATH": "/usr/bin:/bin"}
    done = subprocess.run(["bash", "-ec", script], cwd=clone, capture_output=True, env=env)
    assert done.returncode == 0, done.stderr
    assert b'Good "ewsdash-attestation" signature for ewsdash' in done.stdout + done.stderr
    envelope = json.loads((clone / "envelope.json").read_text())
    assert envelope["signatures"][0]["keyid"] == release.attestation.keyid
    # The same recipe on an edited payload fails.
    (clone / "pae.bin").write_bytes((clone / "pae.bin").read_bytes() + b" ")
    last = script.strip().splitlines()[-1]
    assert subprocess.run(["bash", "-c", last], cwd=clone, capture_output=True).returncode != 0


def test_an_edited_predicate_is_detected(world, users, no_enqueue, tmp_path):
    release = promoted(world, users)

    def add_approver(predicate: dict) -> None:
        predicate["approvals"].append({"username": "mallory", "decision": "approve"})

    forged = edited(stored_bundle(release), add_approver)
    # At the origin: a fresh clone sees the edited bundle, and its signature fails.
    push_bundle(world, "1.1.0", forged)
    report = offline(fresh_clone(world, tmp_path / "fresh"), key_file(tmp_path))
    assert report["status"] == 1
    assert failed(report) == [f"signature of statement 4 ({attestations.RELEASE_PREDICATE})"]
    # In ewsdash's store: the row pointed at an edited copy.
    scratch = tmp_path / "forged.jsonl"
    scratch.write_text(forged)
    ReleaseAttestation.objects.filter(pk=release.attestation.pk).update(
        bundle=artifact_store(scratch)
    )
    release.refresh_from_db()
    result = attestation_verify.attestation_verify(release=release)
    names = [f.what for f in result.failures]
    assert f"signature of statement 4 ({attestations.RELEASE_PREDICATE})" in names
    assert "copy at the origin" in names  # the cache clone still holds what was pushed


def test_a_swapped_artifact_is_detected(world, users, no_enqueue, tmp_path, settings):
    release = promoted(world, users)
    use = CheckArtifact.objects.get(check_result__name="predict", name="out/p.csv")
    genuine = use.artifact
    other = tmp_path / "other.csv"
    other.write_text("month_id,value\n1,999\n")
    # The run's record pointed at other content.
    use.artifact = artifact_store(other)
    use.save()
    result = attestation_verify.attestation_verify(release=release)
    assert [f.what for f in result.failures] == [ARTIFACT]
    assert f"attested {genuine.sha256}" in result.failures[0].detail
    # The stored file itself replaced (its record unchanged).
    use.artifact = genuine
    use.save()
    path = artifact_path(genuine.sha256)
    path.chmod(0o644)
    path.write_text("month_id,value\n1,999\n")
    result = attestation_verify.attestation_verify(release=release)
    assert [f.what for f in result.failures] == [ARTIFACT]
    assert "was changed in the store" in result.failures[0].detail
    # Offline, against a copy of the store.
    clone, keys = fresh_clone(world, tmp_path / "fresh"), key_file(tmp_path)
    copy = tmp_path / "store"
    shutil.copytree(settings.EWSDASH_ARTIFACTS_DIR, copy)
    report = offline(clone, keys, "1.1.0", "--artifacts", str(copy))
    assert (report["status"], failed(report)) == (1, [ARTIFACT])


def test_a_moved_tag_is_detected(world, users, no_enqueue, tmp_path):
    release = promoted(world, users)
    world.git("fetch", "-q", "origin")
    world.git("tag", "-f", "-a", "v1.1.0", "-m", "moved", "origin/production^1")
    world.git("push", "-q", "--force", "origin", "refs/tags/v1.1.0")
    report = offline(fresh_clone(world, tmp_path / "fresh"), key_file(tmp_path))
    assert report["status"] == 1
    assert failed(report) == ["subject", "tag object"]
    subject = next(f for f in report["findings"] if f["what"] == "subject")
    assert release.commit in subject["detail"]
    # Online, once the cache clone has fetched the moved tag; the text report names both.
    result = attestation_verify.attestation_verify(release=release, fetch=True)
    assert [f.what for f in result.failures] == ["subject", "tag object"]
    out = io.StringIO()
    with pytest.raises(SystemExit) as leaving:
        call_command("release", "verify", "pipeline", "1.1.0", stdout=out)
    assert leaving.value.code == 1
    assert "pipeline 1.1.0: does NOT hold (subject; tag object)." in out.getvalue()


def test_the_wrong_key_is_detected(world, users, no_enqueue, tmp_path):
    release = promoted(world, users)
    clone = fresh_clone(world, tmp_path / "fresh")
    stranger = signing.signing_key(tmp_path / "stranger")
    (tmp_path / "stranger.keys").write_text(stranger.public_key + "\n")
    report = offline(clone, tmp_path / "stranger.keys")
    assert report["status"] == 1
    assert len(failed(report)) == 4 and all(w.startswith("signature") for w in failed(report))
    assert "not among the keys given" in report["findings"][1]["detail"]
    # A bundle re-signed by someone else's key fails against ewsdash's.
    rogue = attestations.bundle_sign(statements_of(stored_bundle(release)), stranger)
    push_bundle(world, "1.1.0", rogue)
    report = offline(fresh_clone(world, tmp_path / "again"), key_file(tmp_path))
    assert report["status"] == 1 and len(failed(report)) == 4


def test_a_rotated_key_keeps_old_attestations_verifiable(
    world, users, no_enqueue, tmp_path, settings
):
    first = promoted(world, users)
    settings.EWSDASH_ATTESTATION_KEY = tmp_path / "rotated" / "key"
    operation = operations.release_rollback(
        repository=first.repository,
        target=Release.objects.get(version="1.0.0"),
        actor=users["admin"],
        reason="1.1.0 misreads the grid",
    )
    operation_runner.operation_run(operation_id=operation.pk)
    rollback = Release.objects.get(kind="rollback")
    assert rollback.attestation.keyid != first.attestation.keyid
    facts = statements_of(stored_bundle(rollback))[-1]["predicate"]
    assert (facts["operation"], facts["restores"]["version"]) == ("rollback", "1.0.0")
    assert facts["restores"]["attestationSha256"] is None  # 1.0.0 was imported

    for release in (first, rollback):
        result = attestation_verify.attestation_verify(release=release)
        assert result.ok, result.failures
    clone = fresh_clone(world, tmp_path / "fresh")
    current_only, every_key = key_file(tmp_path), key_file(tmp_path, "--all")
    assert len(current_only.read_text().splitlines()) == 1
    assert len(every_key.read_text().splitlines()) == 2
    assert offline(clone, every_key, "1.1.0")["status"] == 0
    assert offline(clone, every_key, rollback.version)["status"] == 0
    assert offline(clone, current_only, rollback.version)["status"] == 0
    old = offline(clone, current_only, "1.1.0")
    assert old["status"] == 1 and first.attestation.keyid in old["findings"][1]["detail"]


def test_a_repository_can_sign_its_release_tags(world, users, no_enqueue, tmp_path, settings):
    """With sign_tags, `git verify-tag` (gpg.format=ssh) accepts the tag with ewsdash's key."""
    from releases.models import Repository

    commit_on(world, "production", "ci: declare the checks", {"ewsdash.toml": MANIFEST})
    make_promotable(world)
    repository = services.repository_create(actor="test", name="pipeline", origin=str(world.origin))
    Repository.objects.filter(pk=repository.pk).update(sign_tags=True)
    repository.refresh_from_db()
    sync.repository_sync(repository=repository)
    candidate = candidates.candidate_create(repository=repository, actor=users["rm-ana"])
    run_queued_inline(candidate.validation_run)
    candidates.candidates_follow_run(run_id=candidate.validation_run_id)
    candidates.candidate_approve(candidate=candidate, actor=users["rm-ben"])
    candidates.candidate_approve(candidate=candidate, actor=users["admin"])
    candidates.candidate_promote(candidate=candidate, actor=users["rm-ben"])
    operation_runner.promotion_run(candidate_id=candidate.pk)
    clone = fresh_clone(world, tmp_path / "fresh")
    public = key_file(tmp_path).read_text().split()[:2]
    (tmp_path / "signers").write_text(f"{settings.EWSDASH_GIT_EMAIL} {' '.join(public)}\n")
    config = ["-c", "gpg.format=ssh", "-c", f"gpg.ssh.allowedSignersFile={tmp_path / 'signers'}"]
    env = {**BASE_ENV, "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        ["git", "-C", str(clone), *config, "verify-tag", "v1.1.0"], capture_output=True, env=env
    )
    assert done.returncode == 0, done.stderr
    assert b"Good" in done.stderr
    assert offline(clone, key_file(tmp_path))["status"] == 0


def test_the_release_page_offers_the_attestation_and_verifies_it(world, users, no_enqueue, login):
    release = promoted(world, users)
    client = login("viewer")
    page = client.get(reverse("release_detail", kwargs={"name": "pipeline", "version": "1.1.0"}))
    assert b'data-testid="attestation-download"' in page.content
    assert release.attestation.keyid.encode() in page.content
    assert attestations.current_public_key().encode() in page.content

    download = client.get(
        reverse("release_attestation", kwargs={"name": "pipeline", "version": "1.1.0"})
    )
    assert download.status_code == 200
    assert download["Content-Type"] == "application/jsonl"
    assert 'filename="pipeline-v1.1.0.intoto.jsonl"' in download["Content-Disposition"]
    assert b"".join(download.streaming_content).decode() == stored_bundle(release)

    verify = client.get(reverse("release_verify", kwargs={"name": "pipeline", "version": "1.1.0"}))
    assert b'data-testid="verify-ok"' in verify.content
    use = CheckArtifact.objects.get(check_result__name="predict", name="out/p.csv")
    other = world.root / "other.csv"
    other.write_text("swapped\n")
    use.artifact = artifact_store(other)
    use.save()
    verify = client.get(reverse("release_verify", kwargs={"name": "pipeline", "version": "1.1.0"}))
    assert b'data-testid="verify-failed"' in verify.content
    assert ARTIFACT.encode() in verify.content

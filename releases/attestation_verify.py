"""Checking a release attestation (releases.attestations), online or from a plain clone.

The same checks either way, only the sources differ:

- every envelope's signature, by the key its `keyid` names (old keys stay known, so a
  rotation keeps earlier releases verifiable);
- every statement is an in-toto Statement v1 about one subject, the same in all;
- the subject is the commit the release's tag names in git, and the tag object is the one
  ewsdash wrote (a moved or re-made tag fails);
- the manifest file at the commit recorded has the recorded blob id and sha256;
- every check artifact's sha256: online against the run's recorded files and the store's
  content; offline against `--artifacts DIR` (a copy of the artifact store), or reported
  as not checked.

Online (`attestation_verify`) reads the stored bundle, the database's keys and artifacts,
and the cache clone (fetched first when asked). Offline (`attestation_verify_offline`)
reads only a git directory (the bundle at refs/ewsdash/attestations/<version>) and a file
of public keys; it makes no database query.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from releases import git, signing
from releases.attestations import (
    BUNDLE_FILE,
    RELEASE_PREDICATE,
    STATEMENT_TYPE,
    attestation_ref,
    canonical_json,
    public_keys,
)


@dataclass(frozen=True)
class Finding:
    what: str
    ok: bool | None  # None: not checked here (the detail says why)
    detail: str = ""


@dataclass
class Verification:
    repository: str
    version: str
    findings: list[Finding] = field(default_factory=list)

    def add(self, what: str, ok: bool | None, detail: str = "") -> None:
        self.findings.append(Finding(what, ok, detail))

    @property
    def ok(self) -> bool:
        return bool(self.findings) and all(f.ok is not False for f in self.findings)

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if f.ok is False]

    def as_dict(self) -> dict[str, Any]:
        return {
            "repository": self.repository,
            "version": self.version,
            "ok": self.ok,
            "findings": [{"what": f.what, "ok": f.ok, "detail": f.detail} for f in self.findings],
        }


@dataclass(frozen=True)
class Sources:
    """Where the checks read from (online: the database and the cache clone)."""

    repo: git.GitRepo
    keys: dict[str, str]
    # (check name, file entry from the predicate, validation run id) -> Finding
    artifact: Callable[[str, dict, int | None], Finding]
    manifest_parsed: Callable[[int | None], str | None] = lambda run_id: None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def bundle_statements(bundle: str, keys: dict[str, str], result: Verification) -> list[dict]:
    """The statements of a bundle, each signature checked (a finding per envelope)."""
    statements: list[dict] = []
    lines = [line for line in bundle.splitlines() if line.strip()]
    if not lines:
        result.add("bundle", False, "the attestation holds no envelope")
    for number, line in enumerate(lines, 1):
        try:
            envelope = json.loads(line)
        except ValueError:
            result.add(f"envelope {number}", False, "not JSON")
            continue
        opened = signing.envelope_open(envelope if isinstance(envelope, dict) else {}, keys)
        kind = (opened.statement or {}).get("predicateType", "?")
        result.add(
            f"signature of statement {number} ({kind})",
            not opened.problem,
            opened.problem or f"signed by {opened.keyid}",
        )
        if opened.statement is not None:
            statements.append(opened.statement)
    return statements


def _subject_commit(statements: list[dict], result: Verification) -> str | None:
    subjects = {json.dumps(s.get("subject"), sort_keys=True) for s in statements}
    shapes = all(s.get("_type") == STATEMENT_TYPE for s in statements)
    one = shapes and len(subjects) == 1
    why = "in-toto Statement v1, one subject"
    result.add("statements", one, why if one else f"not each an {why}, the same in all")
    try:
        (subject,) = statements[0]["subject"]
        return str(subject["digest"]["gitCommit"])
    except (IndexError, KeyError, TypeError, ValueError):
        result.add("subject", False, "no single subject with a gitCommit digest")
        return None


def statements_check(statements: list[dict], sources: Sources, result: Verification) -> str | None:
    """Everything after the signatures: subject, tag, manifest, artifacts. The subject."""
    if not statements:
        return None
    commit = _subject_commit(statements, result)
    release = next(
        (s["predicate"] for s in statements if s.get("predicateType") == RELEASE_PREDICATE), None
    )
    if not isinstance(release, dict):
        result.add("release predicate", False, f"no {RELEASE_PREDICATE} statement")
        return commit
    same = (release.get("repository"), release.get("version")) == (
        result.repository,
        result.version,
    )
    result.add("names", same, f"{release.get('repository')} {release.get('version')}")
    tag = str(release.get("tag", ""))
    _tag_check(sources.repo, tag, commit, str(release.get("tagObject", "")), result)
    if release.get("manifest"):
        _manifest_check(sources, release, result)
    run_id = (release.get("validationRun") or {}).get("id")
    for check in release.get("checks") or []:
        for item in check.get("artifacts") or []:
            result.findings.append(sources.artifact(str(check.get("name")), item, run_id))
    return commit


def _tag_check(
    repo: git.GitRepo, tag: str, commit: str | None, tag_object: str, result: Verification
) -> None:
    ref = f"refs/tags/{tag}"
    now = git.ref_head(repo, ref) if tag else None
    if now is None:
        result.add("subject", False, f"the tag {tag or '?'} is not in this repository")
        return
    result.add(
        "subject",
        now == commit,
        f"{tag} names {now}" if now == commit else f"{tag} names {now}, the attestation {commit}",
    )
    found = git.ref_object(repo, ref)
    result.add(
        "tag object",
        found == tag_object,
        f"{found}" if found == tag_object else f"{tag} is object {found}, attested {tag_object}",
    )


def _manifest_check(sources: Sources, release: dict, result: Verification) -> None:
    manifest = release["manifest"]
    spec = f"{manifest.get('commit')}:{manifest.get('path')}"
    data = git.read_file_at(sources.repo, str(manifest.get("commit")), str(manifest.get("path")))
    if manifest.get("gitBlob") is None:  # attested as absent (a run without a manifest)
        absent = data is None
        result.add("manifest", absent, f"{spec}: none, as attested" if absent else f"{spec} exists")
    else:
        blob = git.blob_id(sources.repo, spec) if data is not None else None
        held = data is not None and blob == manifest.get("gitBlob")
        held = held and data is not None and _sha256(data) == manifest.get("sha256")
        result.add("manifest", held, spec if held else f"{spec} does not have the attested digest")
    parsed = sources.manifest_parsed((release.get("validationRun") or {}).get("id"))
    if parsed is not None:
        same = parsed == manifest.get("parsedSha256")
        result.add("manifest as judged", same, "" if same else "the run's manifest differs")


# -- online ----------------------------------------------------------------------------------


def _artifact_online(check: str, item: dict, run_id: int | None) -> Finding:
    from monitoring.artifacts import ArtifactCorrupted, artifact_verified
    from monitoring.models import CheckArtifact

    what = f"artifact {check}/{item.get('name')}"
    use = (
        CheckArtifact.objects.filter(
            check_result__run_id=run_id, check_result__name=check, name=item.get("name")
        )
        .select_related("artifact")
        .first()
    )
    if use is None:
        return Finding(what, False, "the run has no such file any more")
    if use.artifact.sha256 != item.get("sha256"):
        return Finding(
            what, False, f"recorded {use.artifact.sha256}, attested {item.get('sha256')}"
        )
    try:
        artifact_verified(use.artifact.sha256)
    except ArtifactCorrupted as error:
        return Finding(what, False, str(error))
    return Finding(what, True, f"sha256 {item.get('sha256')}")


def _manifest_parsed(run_id: int | None) -> str | None:
    from monitoring.models import ValidationRun

    run = ValidationRun.objects.filter(pk=run_id).first() if run_id else None
    return _sha256(canonical_json(run.manifest)) if run is not None else None


def attestation_verify(*, release: Any, fetch: bool = False) -> Verification:
    """Check a release's stored attestation against the cache clone and the database."""
    from monitoring.artifacts import ArtifactCorrupted, artifact_verified
    from releases.clones import clone_session
    from releases.models import ReleaseAttestation

    repository = release.repository
    result = Verification(repository.name, release.version)
    attestation = (
        ReleaseAttestation.objects.filter(release=release).select_related("bundle").first()
    )
    if attestation is None:
        result.add("attestation", False, f"{release.tag} has no attestation")
        return result
    try:
        bundle = artifact_verified(attestation.bundle.sha256).read_text()
    except ArtifactCorrupted as error:
        result.add("stored attestation", False, str(error))
        return result
    result.add("stored attestation", True, f"sha256 {attestation.bundle.sha256}")
    with clone_session(repository) as repo:
        if fetch:
            repo.fetch()
        _origin_copy(repo, release.version, bundle, result)
        sources = Sources(repo, public_keys(), _artifact_online, _manifest_parsed)
        statements = bundle_statements(bundle, sources.keys, result)
        commit = statements_check(statements, sources, result)
    if commit is not None and commit != release.commit:
        result.add("release row", False, f"the release was recorded at {release.commit}")
    return result


def _origin_copy(repo: git.GitRepo, version: str, bundle: str, result: Verification) -> None:
    commit = git.ref_head(repo, attestation_ref(version))
    if commit is None:
        result.add("copy at the origin", None, "not in the cache clone (yet)")
        return
    data = git.read_file_at(repo, commit, BUNDLE_FILE)
    same = data is not None and data.decode(errors="replace") == bundle
    result.add("copy at the origin", same, attestation_ref(version) if same else "differs")


# -- offline ---------------------------------------------------------------------------------


def _artifact_offline(folder: Path | None) -> Callable[[str, dict, int | None], Finding]:
    def check(name: str, item: dict, run_id: int | None) -> Finding:
        what = f"artifact {name}/{item.get('name')}"
        digest = str(item.get("sha256", ""))
        if folder is None:
            return Finding(what, None, f"sha256 {digest}; not checked (no --artifacts)")
        path = folder / "sha256" / digest[:2] / digest[2:]
        if not path.is_file():
            return Finding(what, False, f"{path} is missing")
        found = hashlib.sha256(path.read_bytes()).hexdigest()
        return Finding(what, found == digest, "" if found == digest else f"content is {found}")

    return check


def git_dir_of(path: Path) -> Path:
    """A clone's git directory: `path` itself when bare, else its .git."""
    return path / ".git" if (path / ".git").is_dir() else path


def attestation_verify_offline(
    *,
    git_dir: Path,
    keys_text: str,
    repository: str,
    version: str,
    artifacts: Path | None = None,
) -> Verification:
    """Check the attestation a clone holds for `version` with the public keys given."""
    result = Verification(repository, version)
    keys = signing.public_keys_from(keys_text)
    if not keys:
        result.add("keys", False, "the key file holds no OpenSSH public key")
    repo = git.GitRepo(git_dir_of(git_dir))
    ref = attestation_ref(version)
    commit = git.ref_head(repo, ref)
    data = git.read_file_at(repo, commit, BUNDLE_FILE) if commit else None
    if data is None:
        fetch = "git fetch origin '+refs/ewsdash/*:refs/ewsdash/*'"
        result.add("attestation", False, f"no {ref} in {git_dir} (fetch it: {fetch})")
        return result
    result.add("attestation", True, f"{ref} at {commit}")
    sources = Sources(repo, keys, _artifact_offline(artifacts))
    statements = bundle_statements(data.decode(errors="replace"), keys, result)
    statements_check(statements, sources, result)
    return result

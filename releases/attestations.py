"""Release attestations: what stood behind a release, signed, stored, pushed beside its tag.

Every promotion and rollback writes an in-toto bundle (JSON Lines, one DSSE envelope a
line; releases.signing signs each with ssh-keygen). Each envelope holds an in-toto
Statement v1 whose subject is the tag's commit (`{"gitCommit": sha}`):

- SLSA provenance v1: the operation, the candidate (or the release restored), the commits
  and the manifest it resolved, every check artifact as a byproduct (sha256);
- one test-result v0.1 per check of the candidate's validation run;
- a SLSA verification summary v1: the gate decision;
- ewsdash's release predicate (RELEASE_PREDICATE): candidate, checks with their artifact
  digests, manifest digest, gates, waiver, approvals (who, when, identity), tag object.

The worker builds and signs it while planning the operation (releases.promotion,
releases.operations), writes it as a parentless commit holding `attestation.intoto.jsonl`
and pushes that as refs/ewsdash/attestations/<version> in the same atomic push as the
branch and the tag. Recording the release stores the bundle in the artifact store and a
ReleaseAttestation row. releases.attestation_verify checks one.
"""

from __future__ import annotations

import functools
import hashlib
import json
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.urls import reverse

from monitoring.artifacts import artifact_store
from monitoring.models import CheckArtifact, CheckStatus, ValidationRun
from releases import git, signing
from releases.audit import audit_record
from releases.clones import git_identity
from releases.errors import ActionRefused
from releases.gates import gate_facts, gates
from releases.models import (
    AttestationKey,
    Operation,
    OperationKind,
    PromotionCandidate,
    Release,
    ReleaseAttestation,
)

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PROVENANCE = "https://slsa.dev/provenance/v1"
TEST_RESULT = "https://in-toto.io/attestation/test-result/v0.1"
VERIFICATION_SUMMARY = "https://slsa.dev/verification_summary/v1"
RELEASE_PREDICATE = "urn:ewsdash:predicate:release:v1"
BUILD_TYPE = "urn:ewsdash:build-type:release-operation:v1"
VERIFIED_LEVEL = "EWSDASH_RELEASE_GATES_V1"
BUNDLE_FILE = "attestation.intoto.jsonl"
MEDIA_TYPE = "application/jsonl"


def attestation_ref(version: str) -> str:
    return f"{git.ATTESTATION_REFS}{version}"


def current_signing_key() -> signing.SigningKey:
    """ewsdash's key (EWSDASH_ATTESTATION_KEY), made on first use when missing."""
    try:
        return signing.signing_key(Path(settings.EWSDASH_ATTESTATION_KEY))
    except signing.SigningError as error:
        raise ActionRefused(f"Cannot sign the release attestation: {error}") from None


@functools.lru_cache(maxsize=4)
def _public_key_at(path: Path, modified: int) -> str:
    try:
        key = signing.signing_key(path, generate=False)
    except signing.SigningError:
        return ""
    return f"{key.public_key} {key.keyid}"


def current_public_key() -> str:
    """ewsdash's current public key and its keyid, for pages ("" before the first use);
    never makes a key."""
    path = Path(settings.EWSDASH_ATTESTATION_KEY)
    try:
        modified = path.stat().st_mtime_ns
    except OSError:
        return ""
    return _public_key_at(path, modified)


def tag_signer(repository: Any) -> Any:
    """The `sign` argument of git.annotated_tag: ewsdash's key when the repository signs
    its release tags, else None."""
    if not repository.sign_tags:
        return None
    key = current_signing_key()
    return lambda data: signing.ssh_sign(key, data, namespace="git")


def _url(view: str, **kwargs: Any) -> str:
    return settings.EWSDASH_PUBLIC_URL.rstrip("/") + reverse(view, kwargs=kwargs)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


# -- what a release rests on -----------------------------------------------------------------


def manifest_commit(run: ValidationRun, candidate: PromotionCandidate) -> str:
    """The commit whose manifest judged the run: the candidate's own, or production's."""
    if run.manifest_source == "candidate":
        return run.commit
    return run.reference.commit if run.reference is not None else candidate.production_head


def manifest_facts(repo: git.GitRepo, run: ValidationRun, candidate: PromotionCandidate) -> dict:
    at = manifest_commit(run, candidate)
    data = git.read_file_at(repo, at, run.manifest_path)
    return {
        "path": run.manifest_path,
        "source": run.manifest_source,
        "commit": at,
        "gitBlob": git.blob_id(repo, f"{at}:{run.manifest_path}") if data is not None else None,
        "sha256": _sha256(data) if data is not None else None,
        "parsedSha256": _sha256(canonical_json(run.manifest)),
    }


def check_facts(run: ValidationRun) -> list[dict]:
    uses = CheckArtifact.objects.filter(check_result__run=run).select_related(
        "artifact", "check_result"
    )
    files: dict[int, list[dict]] = {}
    for use in uses.order_by("check_result_id", "name"):
        files.setdefault(use.check_result_id, []).append(
            {
                "name": use.name,
                "kind": use.kind,
                "size": use.artifact.size,
                "sha256": use.artifact.sha256,
            }
        )
    return [
        {
            "name": check.name,
            "kind": check.kind,
            "required": check.required,
            "status": check.status,
            "exitCode": check.exit_code,
            "summary": check.summary,
            "finishedOn": check.finished_at.isoformat() if check.finished_at else None,
            "artifacts": files.get(check.pk, []),
        }
        for check in run.checks.order_by("position")
    ]


def _person(user: Any) -> dict | None:
    if user is None:
        return None
    identities = sorted(i.email for i in user.git_identities.all() if i.confirmed_at)
    return {
        "username": user.get_username(),
        "name": user.get_full_name(),
        "email": user.email,
        "confirmedGitIdentities": identities,
    }


def approval_facts(candidate: PromotionCandidate) -> tuple[list[dict], list[dict]]:
    """(the approvals that counted, every gate as judged now)."""
    facts = gate_facts(candidate=candidate)
    approvals = [
        {
            **(_person(a.user) or {}),
            "decision": a.decision,
            "at": a.created_at.isoformat(),
            "commit": a.commit,
            "validationRun": a.validation_run_id,
            "comment": a.comment,
        }
        for a in facts.live_approvals
    ]
    judged = [{"gate": g.key, "ok": g.ok, "detail": g.detail} for g in gates(facts)]
    return approvals, judged


# -- the statements --------------------------------------------------------------------------


@dataclass(frozen=True)
class Tagged:
    """What the operation wrote: the tag, its object, the commit it names, when."""

    version: str
    tag: str
    tag_object: str
    commit: str
    when: datetime


def _statement(tagged: Tagged, predicate_type: str, predicate: dict) -> dict:
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": tagged.tag, "digest": {"gitCommit": tagged.commit}}],
        "predicateType": predicate_type,
        "predicate": predicate,
    }


def _commit_descriptor(name: str, commit: str) -> dict:
    return {"name": name, "digest": {"gitCommit": commit}}


def _manifest_descriptor(manifest: dict) -> dict:
    digest = {k: manifest[k] for k in ("gitBlob", "sha256") if manifest.get(k)}
    return {
        "name": manifest["path"],
        "digest": digest or {"sha256": manifest["parsedSha256"]},
        "annotations": {"commit": manifest["commit"], "source": manifest["source"]},
    }


def _byproducts(checks: list[dict]) -> list[dict]:
    return [
        {
            "name": f"{check['name']}/{item['name']}",
            "digest": {"sha256": item["sha256"]},
            "annotations": {"kind": item["kind"], "size": item["size"]},
        }
        for check in checks
        for item in check["artifacts"]
    ]


def _provenance(operation: Operation, tagged: Tagged, external: dict, deps: list, byproducts: list):
    repository = operation.repository
    return {
        "buildDefinition": {
            "buildType": BUILD_TYPE,
            "externalParameters": external,
            "internalParameters": {
                "repository": repository.name,
                "origin": repository.origin,
                "productionBranch": repository.production_branch,
                "requiredApprovals": repository.required_approvals,
            },
            "resolvedDependencies": deps,
        },
        "runDetails": {
            "builder": {"id": settings.EWSDASH_PUBLIC_URL.rstrip("/") + "/"},
            "metadata": {
                "invocationId": _url("operation_detail", name=repository.name, pk=operation.pk)
                if operation.pk
                else "",
                "startedOn": (operation.started_at or tagged.when).isoformat(),
                "finishedOn": tagged.when.isoformat(),
            },
            "byproducts": byproducts,
        },
    }


def _test_result(check: dict, manifest: dict, run: ValidationRun) -> dict:
    if check["status"] == CheckStatus.PASSED:
        result = "PASSED"
    elif check["status"] == CheckStatus.SKIPPED or not check["required"]:
        result = "WARNED"
    else:
        result = "FAILED"
    return {
        "result": result,
        "configuration": [_manifest_descriptor(manifest)],
        "url": _url("validation_run_detail", name=run.repository.name, run_id=run.pk),
        "passedTests": [check["name"]] if result == "PASSED" else [],
        "warnedTests": [check["name"]] if result == "WARNED" else [],
        "failedTests": [check["name"]] if result == "FAILED" else [],
    }


def _summary(tagged: Tagged, operation: Operation, passed: bool, policy: dict) -> dict:
    return {
        "verifier": {"id": settings.EWSDASH_PUBLIC_URL.rstrip("/") + "/"},
        "timeVerified": tagged.when.isoformat(),
        "resourceUri": f"git+{operation.repository.origin}@refs/tags/{tagged.tag}",
        "policy": policy,
        "inputAttestations": [],
        "verificationResult": "PASSED" if passed else "FAILED",
        "verifiedLevels": [VERIFIED_LEVEL] if passed else [],
    }


def promotion_statements(operation: Operation, repo: git.GitRepo, tagged: Tagged) -> list[dict]:
    candidate = operation.candidate
    assert candidate is not None
    run = candidate.validation_run
    checks = check_facts(run) if run is not None else []
    manifest = manifest_facts(repo, run, candidate) if run is not None else None
    approvals, judged = approval_facts(candidate)
    waived = bool(candidate.waived_by_id)
    run_passed = run is not None and run.status == "passed"
    passed = all(g["ok"] for g in judged) and (run_passed or waived)
    release = {
        "repository": operation.repository.name,
        "operation": "promote",
        "version": tagged.version,
        "tag": tagged.tag,
        "tagObject": tagged.tag_object,
        "commit": tagged.commit,
        "candidate": {
            "id": candidate.pk,
            "kind": candidate.kind,
            "sourceBranch": candidate.source_branch,
            "commit": candidate.commit,
            "productionHead": candidate.production_head,
            "bump": candidate.bump,
            "createdBy": _person(candidate.created_by),
            "createdAt": candidate.created_at.isoformat(),
        },
        "validationRun": {"id": run.pk, "attempt": run.attempt, "status": run.status}
        if run is not None
        else None,
        "manifest": manifest,
        "checks": checks,
        "gates": judged,
        "decision": "promote" if passed else "promote despite failed gates",
        "waiver": {"by": _person(candidate.waived_by), "reason": candidate.waiver_reason}
        if waived
        else None,
        "freezeOverride": candidate.freeze_override_reason or None,
        "requiredApprovals": operation.repository.required_approvals,
        "approvals": approvals,
        "promotedBy": _person(candidate.promoted_by),
    }
    deps = [
        _commit_descriptor(f"{candidate.source_branch}@candidate", candidate.commit),
        _commit_descriptor("production@before", _first_parent(repo, tagged.commit)),
    ]
    if manifest is not None:
        deps.append(_manifest_descriptor(manifest))
    external = {
        "operation": "promote",
        "candidate": candidate.pk,
        "version": tagged.version,
        "sourceBranch": candidate.source_branch,
        "sourceCommit": candidate.commit,
    }
    policy = (
        {"uri": manifest["path"], "digest": _manifest_descriptor(manifest)["digest"]}
        if manifest
        else {"uri": "ewsdash:gates"}
    )
    provenance = _provenance(operation, tagged, external, deps, _byproducts(checks))
    tests = [_test_result(c, manifest, run) for c in checks] if run and manifest else []
    return [
        _statement(tagged, PROVENANCE, provenance),
        *(_statement(tagged, TEST_RESULT, test) for test in tests),
        _statement(tagged, VERIFICATION_SUMMARY, _summary(tagged, operation, passed, policy)),
        _statement(tagged, RELEASE_PREDICATE, release),
    ]


def rollback_statements(operation: Operation, repo: git.GitRepo, tagged: Tagged) -> list[dict]:
    repository, params = operation.repository, operation.params
    target = Release.objects.get(repository=repository, version=params["target"])
    restored = ReleaseAttestation.objects.filter(release=target).select_related("bundle").first()
    release = {
        "repository": repository.name,
        "operation": "rollback",
        "version": tagged.version,
        "tag": tagged.tag,
        "tagObject": tagged.tag_object,
        "commit": tagged.commit,
        "restores": {
            "version": target.version,
            "tag": target.tag,
            "commit": target.commit,
            "attestationSha256": restored.bundle.sha256 if restored else None,
        },
        "reason": params["reason"],
        "breakGlass": params.get("break_glass") or None,
        "checks": [],
        "manifest": None,
        "decision": "rollback",
        "approvals": [],
        "requestedBy": _person(operation.requested_by),
    }
    deps = [
        _commit_descriptor(f"{target.tag}@restored", target.commit),
        _commit_descriptor("production@before", _first_parent(repo, tagged.commit)),
    ]
    external = {
        "operation": "rollback",
        "restores": target.version,
        "reason": params["reason"],
        "breakGlass": params.get("break_glass") or None,
    }
    return [
        _statement(tagged, PROVENANCE, _provenance(operation, tagged, external, deps, [])),
        _statement(
            tagged,
            VERIFICATION_SUMMARY,
            _summary(tagged, operation, True, {"uri": "ewsdash:rollback-by-admin"}),
        ),
        _statement(tagged, RELEASE_PREDICATE, release),
    ]


def _first_parent(repo: git.GitRepo, commit: str) -> str:
    return repo.run("rev-parse", f"{commit}^1").strip()


# -- signing, the git objects, the record ----------------------------------------------------


def bundle_sign(statements: list[dict], key: signing.SigningKey) -> str:
    """The bundle: one signed DSSE envelope a line (in-toto's `.intoto.jsonl`)."""
    try:
        lines = [json.dumps(signing.envelope_sign(key, s), sort_keys=True) for s in statements]
    except signing.SigningError as error:
        raise ActionRefused(f"Cannot sign the release attestation: {error}") from None
    return "\n".join(lines) + "\n"


def bundle_commit(repo: git.GitRepo, bundle: str, tagged: Tagged) -> str:
    """A parentless commit holding the bundle, for refs/ewsdash/attestations/<version>."""
    tree = git.tree_write(repo, {BUNDLE_FILE: git.blob_write(repo, bundle)})
    return git.commit_tree(
        repo,
        tree=tree,
        parents=[],
        message=f"ewsdash attestation of {tagged.tag} ({tagged.commit})\n",
        author=git_identity(),
        committer=git_identity(),
        when=tagged.when,
    )


def attestation_plan(operation: Operation, repo: git.GitRepo, tagged: Tagged) -> tuple[dict, dict]:
    """(the ref update to push, what the record step needs), signed with the current key."""
    if operation.kind == OperationKind.ROLLBACK:
        statements = rollback_statements(operation, repo, tagged)
    else:
        statements = promotion_statements(operation, repo, tagged)
    key = current_signing_key()
    AttestationKey.objects.get_or_create(keyid=key.keyid, defaults={"public_key": key.public_key})
    bundle = bundle_sign(statements, key)
    ref, commit = attestation_ref(tagged.version), bundle_commit(repo, bundle, tagged)
    return {ref: commit}, {
        "ref": ref,
        "commit": commit,
        "bundle": bundle,
        "keyid": key.keyid,
        "public_key": key.public_key,
    }


def attestation_found(repo: git.GitRepo, version: str) -> dict | None:
    """What an earlier attempt pushed for `version` (its worker died after the push)."""
    ref = attestation_ref(version)
    commit = git.ref_head(repo, ref)
    data = git.read_file_at(repo, commit, BUNDLE_FILE) if commit else None
    if commit is None or data is None:
        return None
    return {"ref": ref, "commit": commit, "bundle": data.decode(), "keyid": "", "public_key": ""}


def attestation_record(operation: Operation, release: Release) -> ReleaseAttestation | None:
    """Store the bundle the operation pushed and its row (inside the runner's transaction)."""
    found = operation.result.get("attestation")
    if not found:
        return None
    existing = ReleaseAttestation.objects.filter(release=release).first()
    if existing is not None:
        return existing
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl") as scratch:
        scratch.write(found["bundle"])
        scratch.flush()
        stored = artifact_store(Path(scratch.name))
    if found.get("public_key"):
        AttestationKey.objects.get_or_create(
            keyid=found["keyid"], defaults={"public_key": found["public_key"]}
        )
    attestation = ReleaseAttestation.objects.create(
        release=release,
        operation=operation if operation.pk else None,
        bundle=stored,
        keyid=found.get("keyid") or _keyid_in(found["bundle"]),
        git_ref=found["ref"],
        git_commit=found["commit"],
    )
    audit_record(
        actor=operation.requested_by,
        action="release.attested",
        obj=release,
        repository=release.repository,
        payload={
            "sha256": stored.sha256,
            "keyid": attestation.keyid,
            "ref": attestation.git_ref,
            "commit": attestation.git_commit,
            "statements": found["bundle"].count("\n"),
        },
    )
    return attestation


def _keyid_in(bundle: str) -> str:
    try:
        return str(json.loads(bundle.splitlines()[0])["signatures"][0]["keyid"])
    except (IndexError, KeyError, TypeError, ValueError):
        return ""


def public_keys() -> dict[str, str]:
    """Every key ewsdash has signed with (keyid -> public key), the current one included."""
    keys = dict(AttestationKey.objects.values_list("keyid", "public_key"))
    path = Path(settings.EWSDASH_ATTESTATION_KEY)
    if path.exists():
        try:
            key = signing.signing_key(path, generate=False)
            keys.setdefault(key.keyid, key.public_key)
        except signing.SigningError:
            pass
    return keys

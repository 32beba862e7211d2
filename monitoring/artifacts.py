"""The artifact store: files checks produced, kept once by the sha256 of their content.

Files live under EWSDASH_ARTIFACTS_DIR/sha256/ab/cdef..., read-only; a check only ever
gets private copies. Whatever reads a file back verifies its sha256 (`artifact_copy_to`,
`artifact_verified`): a file changed in the store raises ArtifactCorrupted, which fails
the check that read it (and monitoring.claims audits it with the check's result).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction

from monitoring.models import Artifact


class ArtifactCorrupted(Exception):
    """A stored file whose content no longer has the sha256 it is stored under."""

    def __init__(self, sha256: str, found: str) -> None:
        self.sha256 = sha256
        self.found = found
        super().__init__(
            f"stored artifact {sha256[:12]} was changed in the store (its content now has "
            f"sha256 {found[:12]}): refusing to read it"
        )


def artifact_path(sha256: str) -> Path:
    return Path(settings.EWSDASH_ARTIFACTS_DIR) / "sha256" / sha256[:2] / sha256[2:]


def artifact_store(path: Path) -> Artifact:
    """Store a file by its content's sha256 (once, read-only) and return its row."""
    root = Path(settings.EWSDASH_ARTIFACTS_DIR)
    scratch_dir = root / "incoming"
    scratch_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    handle, scratch_name = tempfile.mkstemp(dir=scratch_dir)
    scratch = Path(scratch_name)
    try:
        with os.fdopen(handle, "wb") as out, open(path, "rb") as source:
            for block in iter(lambda: source.read(1 << 20), b""):
                digest.update(block)
                out.write(block)
        sha = digest.hexdigest()
        final = artifact_path(sha)
        size = scratch.stat().st_size
        if final.exists():
            scratch.unlink()
        else:
            final.parent.mkdir(parents=True, exist_ok=True)
            scratch.chmod(0o444)
            os.replace(scratch, final)  # atomic: a reader never sees half a file
    except BaseException:
        scratch.unlink(missing_ok=True)
        raise
    try:
        with transaction.atomic():
            artifact, _ = Artifact.objects.get_or_create(sha256=sha, defaults={"size": size})
    except IntegrityError:  # another worker stored the same content at the same moment
        artifact = Artifact.objects.get(sha256=sha)
    return artifact


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as source:
            for block in iter(lambda: source.read(1 << 20), b""):
                digest.update(block)
    except FileNotFoundError:
        return "missing"
    return digest.hexdigest()


def artifact_verified(sha256: str) -> Path:
    """The stored file of `sha256`, after checking its content still has that sha256."""
    path = artifact_path(sha256)
    found = _digest(path)
    if found != sha256:
        raise ArtifactCorrupted(sha256, found)
    return path


def artifact_copy_to(artifact: Artifact, dest: Path) -> None:
    """A private, writable copy, verified: a check must never be able to change the store,
    nor read a file that was changed there."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    try:
        with open(artifact_path(artifact.sha256), "rb") as source, open(dest, "wb") as out:
            for block in iter(lambda: source.read(1 << 20), b""):
                digest.update(block)
                out.write(block)
    except FileNotFoundError:
        dest.unlink(missing_ok=True)
        raise ArtifactCorrupted(artifact.sha256, "missing") from None
    if digest.hexdigest() != artifact.sha256:
        dest.unlink(missing_ok=True)
        raise ArtifactCorrupted(artifact.sha256, digest.hexdigest())

"""A release's attestation on the web: download the signed bundle, verify it now."""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from monitoring.artifacts import ArtifactCorrupted, artifact_verified
from releases import attestation_verify, attestations, selectors
from releases.access import access_repository
from releases.attestations import BUNDLE_FILE


@require_safe
def release_attestation(request: HttpRequest, name: str, version: str) -> FileResponse:
    repository = access_repository(request, name)
    release = selectors.release_detail(repository=repository, version=version).release
    attestation = getattr(release, "attestation", None)
    if attestation is None:
        raise Http404(f"{release.tag} has no attestation")
    try:
        path = artifact_verified(attestation.bundle.sha256)
    except ArtifactCorrupted as error:
        raise Http404(str(error)) from None
    return FileResponse(
        open(path, "rb"),  # noqa: SIM115 - FileResponse closes it
        as_attachment=True,
        filename=f"{repository.name}-{release.tag}.{BUNDLE_FILE.split('.', 1)[1]}",
        content_type=attestations.MEDIA_TYPE,
    )


@require_safe
def release_verify(request: HttpRequest, name: str, version: str) -> HttpResponse:
    repository = access_repository(request, name)
    detail = selectors.release_detail(repository=repository, version=version)
    result = attestation_verify.attestation_verify(release=detail.release)
    return render(
        request,
        "releases/release_verify.html",
        {"repository": repository, "detail": detail, "result": result},
    )

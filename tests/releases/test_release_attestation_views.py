"""The release page's attestation section, download and verify views, for a release
ewsdash did not attest and for a bundle nobody signed (a real promotion's attestation is
downloaded and verified in tests/promotion/test_attestations.py)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from releases import attestations
from tests.promotion.factories import attested_release

pytestmark = pytest.mark.django_db


def url(view: str, version: str = "1.0.0") -> str:
    return reverse(view, kwargs={"name": "pipeline", "version": version})


def test_an_imported_release_has_no_attestation_to_download(login, registered):
    client = login("viewer")
    page = client.get(url("release_detail"))
    assert b'data-testid="no-attestation"' in page.content
    assert b'data-testid="attestation-download"' not in page.content
    assert client.get(url("release_attestation")).status_code == 404
    verify = client.get(url("release_verify"))
    assert b'data-testid="verify-failed"' in verify.content
    assert b"v1.0.0 has no attestation" in verify.content


def test_the_page_shows_the_public_key_once_one_exists(login, registered):
    key = attestations.current_signing_key()
    page = login("viewer").get(url("release_detail"))
    assert f"{key.public_key} {key.keyid}".encode() in page.content


def test_an_unsigned_bundle_downloads_as_stored_and_does_not_verify(login, registered):
    attested_release()
    client = login("analyst")
    download = client.get(url("release_attestation"))
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b'{"payloadType"')
    verify = client.get(url("release_verify"))
    assert b'data-testid="verify-failed"' in verify.content
    assert b"not a DSSE envelope" in verify.content

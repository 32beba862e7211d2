"""SSH signatures over DSSE envelopes, with ssh-keygen (no Django, no key in the database).

An envelope is DSSE v1 (https://github.com/secure-systems-lab/dsse): the payload, its type,
and signatures whose `sig` is the base64 of an armored SSHSIG signature
(`ssh-keygen -Y sign -n ewsdash-attestation`) over the DSSE pre-authentication encoding
(PAE) and whose `keyid` is the key's SHA256 fingerprint, as `ssh-keygen -l` prints it.
Anyone can therefore check one with ssh-keygen alone (README "Release attestations").
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

NAMESPACE = "ewsdash-attestation"
PRINCIPAL = "ewsdash"
IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
TIMEOUT = 30


class SigningError(Exception):
    """The key cannot be read, made or used; the message says why."""


@dataclass(frozen=True)
class SigningKey:
    path: Path
    public_key: str  # "ssh-ed25519 AAAA… comment"
    keyid: str  # "SHA256:…"


def keyid_of(public_key: str) -> str:
    """The SHA256 fingerprint of an OpenSSH public key line (what `ssh-keygen -l` shows)."""
    parts = public_key.split()
    if len(parts) < 2:
        raise SigningError("not an OpenSSH public key line")
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except ValueError:
        raise SigningError("not an OpenSSH public key line") from None
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def _run(args: list[str], *, data: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(args, input=data, capture_output=True, timeout=TIMEOUT, check=False)
    except FileNotFoundError:
        raise SigningError("ssh-keygen is not installed on this machine") from None


def signing_key(path: Path, *, generate: bool = True) -> SigningKey:
    """The key at `path` (its public half read from `path`.pub, or derived from it).

    With `generate`, a missing key is made: ed25519, no passphrase, mode 0600.
    """
    path = Path(path)
    if not path.exists():
        if not generate:
            raise SigningError(f"no attestation key at {path}")
        path.parent.mkdir(parents=True, exist_ok=True)
        made = _run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", PRINCIPAL, "-f", str(path)]
        )
        if made.returncode != 0 and not path.exists():
            raise SigningError(f"cannot make a key at {path}: {made.stderr.decode().strip()}")
    public = _run(["ssh-keygen", "-y", "-f", str(path)])
    if public.returncode != 0:
        raise SigningError(f"cannot read the key at {path}: {public.stderr.decode().strip()}")
    line = " ".join(public.stdout.decode().split()[:2])
    return SigningKey(path=path, public_key=line, keyid=keyid_of(line))


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1's pre-authentication encoding: what the signature covers."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def ssh_sign(key: SigningKey, data: bytes, *, namespace: str = NAMESPACE) -> bytes:
    """An armored SSHSIG signature of `data`."""
    done = _run(["ssh-keygen", "-q", "-Y", "sign", "-f", str(key.path), "-n", namespace], data=data)
    if done.returncode != 0 or b"BEGIN SSH SIGNATURE" not in done.stdout:
        raise SigningError(f"ssh-keygen could not sign: {done.stderr.decode().strip()}")
    return done.stdout


def ssh_verify(
    public_key: str, data: bytes, signature: bytes, *, namespace: str = NAMESPACE
) -> bool:
    """Whether `signature` is `public_key`'s signature of `data` in `namespace`."""
    with tempfile.TemporaryDirectory() as scratch:
        signers, sig = Path(scratch) / "allowed_signers", Path(scratch) / "sig"
        signers.write_text(f'{PRINCIPAL} namespaces="{namespace}" {public_key}\n')
        sig.write_bytes(signature)
        done = _run(
            [
                "ssh-keygen", "-Y", "verify", "-f", str(signers), "-I", PRINCIPAL,
                "-n", namespace, "-s", str(sig),
            ],
            data=data,
        )  # fmt: skip
    return done.returncode == 0


def envelope_sign(key: SigningKey, statement: dict[str, Any]) -> dict[str, Any]:
    """A DSSE envelope of an in-toto statement, signed by `key`."""
    payload = json.dumps(statement, sort_keys=True, separators=(",", ":")).encode()
    signature = ssh_sign(key, pae(IN_TOTO_PAYLOAD_TYPE, payload))
    return {
        "payloadType": IN_TOTO_PAYLOAD_TYPE,
        "payload": base64.b64encode(payload).decode(),
        "signatures": [{"keyid": key.keyid, "sig": base64.b64encode(signature).decode()}],
    }


@dataclass(frozen=True)
class EnvelopeCheck:
    statement: dict[str, Any] | None
    keyid: str
    problem: str  # "" when a known key signed it


def envelope_open(envelope: dict[str, Any], public_keys: dict[str, str]) -> EnvelopeCheck:
    """The statement of an envelope and whether one of `public_keys` (keyid -> key) signed
    it. The statement is returned even when the signature fails, to name it."""
    try:
        payload = base64.b64decode(envelope["payload"], validate=True)
        statement = json.loads(payload)
        signatures = envelope["signatures"]
        kind = envelope["payloadType"]
    except (KeyError, TypeError, ValueError):
        return EnvelopeCheck(None, "", "not a DSSE envelope of a JSON statement")
    if not isinstance(statement, dict):
        statement = None
    if kind != IN_TOTO_PAYLOAD_TYPE:
        return EnvelopeCheck(statement, "", f"payload type {kind!r} is not in-toto's")
    keyids = [str(s.get("keyid", "")) for s in signatures if isinstance(s, dict)]
    for entry in signatures if isinstance(signatures, list) else []:
        keyid = str(entry.get("keyid", "")) if isinstance(entry, dict) else ""
        public = public_keys.get(keyid)
        if public is None:
            continue
        try:
            signature = base64.b64decode(entry["sig"], validate=True)
        except (KeyError, ValueError):
            return EnvelopeCheck(statement, keyid, "its signature is not base64")
        if ssh_verify(public, pae(kind, payload), signature):
            return EnvelopeCheck(statement, keyid, "")
        return EnvelopeCheck(statement, keyid, f"the signature by {keyid} does not match")
    named = ", ".join(keyids) or "no key"
    return EnvelopeCheck(statement, "", f"signed by {named}, which is not among the keys given")


def public_keys_from(text: str) -> dict[str, str]:
    """keyid -> key from a file of public keys: one a line, as `.pub` files or
    allowed-signers lines hold them (anything before the key type is ignored)."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        words = line.split()
        for at, word in enumerate(words[:-1]):
            if word.startswith(("ssh-", "ecdsa-", "sk-")):
                key = f"{word} {words[at + 1]}"
                try:
                    found[keyid_of(key)] = key
                except SigningError:
                    pass
                break
    return found

"""A real OpenID provider for the single sign-on tests, and a way through its pages.

`OidcProvider` runs tests/support/oidc_provider.mjs (npm oidc-provider, pinned in
tests/package.json) on 127.0.0.1 with one client and the accounts of a JSON file the test
may rewrite between sign-ins. `sign_in_through` walks a Django test client through the
provider's own login and consent pages over HTTP, as a browser would, without one
(the Chromium journey is tests/browser/test_journey_sso.py).
"""

from __future__ import annotations

import html
import json
import re
import select
import signal
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

TOOLS = Path(__file__).resolve().parents[1] / "node_modules"
SCRIPT = Path(__file__).resolve().parent / "oidc_provider.mjs"
CLIENT_ID = "ewsdash-tests"
CLIENT_SECRET = "a-client-secret-only-the-tests-know-0123456789"


class OidcProvider:
    def __init__(self, folder: Path, redirect_uris: list[str]) -> None:
        self.accounts_path = folder / "accounts.json"
        self.log_path = folder / "provider.log"
        self.redirect_uris = redirect_uris
        self.accounts: dict[str, dict[str, Any]] = {}
        self.issuer = ""
        self.process: subprocess.Popen[str] | None = None

    def start(self, timeout: float = 30) -> OidcProvider:
        if not (TOOLS / "oidc-provider").exists():
            raise RuntimeError(f"{TOOLS}/oidc-provider is missing: run npm ci --prefix tests")
        self._write_accounts()
        self.process = subprocess.Popen(
            ["node", str(SCRIPT), str(self.accounts_path), CLIENT_ID, CLIENT_SECRET]
            + [",".join(self.redirect_uris)],
            stdout=subprocess.PIPE,
            stderr=self.log_path.open("w"),
            text=True,
            cwd=TOOLS.parent,
            start_new_session=True,
        )
        assert self.process.stdout is not None
        # The provider prints one line, its issuer, once it listens (nothing if it fails).
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        line = self.process.stdout.readline() if ready else ""
        if not line:
            self.stop()
            raise RuntimeError(f"the provider did not start:\n{self.log_path.read_text()}")
        self.issuer = json.loads(line)["issuer"]
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=10)

    def set_account(self, login: str, **claims: Any) -> None:
        """Create or replace an account (its login is its subject); read at next sign-in."""
        self.accounts[login] = claims
        self._write_accounts()

    def reset(self) -> None:
        """No accounts (each test makes its own)."""
        self.accounts = {}
        self._write_accounts()

    def _write_accounts(self) -> None:
        self.accounts_path.write_text(json.dumps(self.accounts))


def _form(page: str, base: str) -> tuple[str, dict[str, str], bool]:
    """The page's first form: absolute action, hidden fields, whether it asks for a login."""
    form = re.search(r"<form[^>]*action=\"([^\"]+)\"[^>]*>(.*?)</form>", page, re.S)
    assert form, f"no form on the provider's page:\n{page[:2000]}"
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(2)))
    return urljoin(base, html.unescape(form.group(1))), hidden, 'name="login"' in form.group(2)


def sign_in_through(client: Any, provider: OidcProvider, login: str, *, next_url: str = "") -> Any:
    """Start single sign-on on `client`, sign in as `login` on the provider's pages, give
    consent, and return ewsdash's answer to the callback."""
    start = client.get("/oidc/authenticate/" + (f"?next={next_url}" if next_url else ""))
    assert start.status_code == 302, start
    browser = requests.Session()
    response = browser.get(start["Location"], allow_redirects=False, timeout=10)
    for _ in range(12):
        if response.is_redirect:
            location = urljoin(response.url, response.headers["Location"])
            if not location.startswith(provider.issuer):  # back to ewsdash
                parts = urlsplit(location)
                return client.get(f"{parts.path}?{parts.query}")
            response = browser.get(location, allow_redirects=False, timeout=10)
            continue
        assert response.status_code == 200, (response.status_code, response.text[:2000])
        action, fields, asks_login = _form(response.text, response.url)
        if asks_login:
            fields |= {"login": login, "password": "any password"}
        response = browser.post(action, data=fields, allow_redirects=False, timeout=10)
    raise AssertionError("the provider never sent the browser back to ewsdash")

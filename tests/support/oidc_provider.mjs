// A real OpenID provider for the single sign-on tests: panva's oidc-provider (a certified
// implementation, pinned in tests/package.json) on 127.0.0.1, on a port the system picks.
//
//   node oidc_provider.mjs ACCOUNTS_JSON CLIENT_ID CLIENT_SECRET REDIRECT_URI[,REDIRECT_URI…]
//
// It registers one confidential client (client_secret_basic, authorization code with
// PKCE), and prints one JSON line {"issuer": "http://127.0.0.1:PORT"} once it listens.
// Accounts are read from ACCOUNTS_JSON at every lookup, so a test can move someone out of
// a group between two sign-ins: {"login": {"preferred_username": …, "groups": […], …}}.
// The login and consent pages are the package's own (devInteractions): any password is
// accepted for a login that ACCOUNTS_JSON lists; the login is the account's subject.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const [accountsFile, clientId, clientSecret, redirectUris] = process.argv.slice(2);
if (!redirectUris) {
  console.error('usage: oidc_provider.mjs ACCOUNTS_JSON CLIENT_ID CLIENT_SECRET REDIRECT_URIS');
  process.exit(2);
}

const server = createServer();
await new Promise((resolve) => { server.listen(0, '127.0.0.1', resolve); });
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: redirectUris.split(','),
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  scopes: ['openid', 'email', 'profile', 'groups'],
  claims: {
    email: ['email', 'email_verified'],
    profile: ['preferred_username', 'name'],
    groups: ['groups'],
  },
  async findAccount(ctx, id) {
    const accounts = JSON.parse(readFileSync(accountsFile, 'utf8'));
    if (!Object.hasOwn(accounts, id)) return undefined;
    return {
      accountId: id,
      async claims() {
        const current = JSON.parse(readFileSync(accountsFile, 'utf8'))[id] ?? {};
        return { ...current, sub: id };
      },
    };
  },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['ewsdash-tests-only-cookie-key'] },
});
// The package says so on stderr when its development-only pages are on; they are meant.
server.on('request', provider.callback());
process.stdout.write(`${JSON.stringify({ issuer })}\n`);

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => { server.close(); process.exit(0); });
}

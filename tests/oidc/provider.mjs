// A real OpenID provider for Tradia's sign-in tests: npm `oidc-provider` (OpenID-certified),
// listening on 127.0.0.1 with one confidential client (and the same as a public client, its id
// followed by "-public"), PKCE required, and two test accounts.
// Its built-in development login and consent forms take any password for a known login.
//
// Usage: node provider.mjs [--port N] [--client-id ID] [--client-secret S]
//                          [--redirect-uri URI]... [--post-logout-redirect-uri URI]...
// Each option falls back to an environment variable: OIDC_PORT (default 0: a free port),
// OIDC_CLIENT_ID (default "tradia"), OIDC_CLIENT_SECRET (default "tradia-test-secret"),
// OIDC_REDIRECT_URIS and OIDC_POST_LOGOUT_REDIRECT_URIS (comma-separated; default
// http://127.0.0.1:8080/api/v1/auth/oidc/callback and http://127.0.0.1:8080/).
// Prints "ready <issuer>" on standard output once it listens, and stops on SIGTERM/SIGINT, and
// also when standard input closes if OIDC_EXIT_ON_STDIN_CLOSE=1 (so that a test that dies does
// not leave it behind).
//
// Test accounts (login = subject):
//   alice  Alice Martin, alice@example.org, realm_access.roles ["tradia-admin", "staff"],
//          groups ["admins"]
//   bob    Bob Durand (given and family names only), bob@example.org (unverified),
//          realm_access.roles ["staff"], groups "translators" (a single string)
//
// OIDC_TAMPER (tests of the relying party's ID-token checks) alters every ID token the token
// endpoint returns: "signature" (payload changed, signature kept), "nonce", "audience",
// "issuer", "expired" (each re-signed with the real key, so only that check can refuse it),
// "foreign-key" (signed by another key under the published key id), "unknown-key" (signed by
// another key under an unpublished key id), "unsigned" (`alg: none`, no signature), "rotate" (not a tampering: the provider signs
// with a second key that its first key-set answer leaves out, as just after a key rotation;
// later answers list it), "id-token-claims" (the ID token carries the profile, e-mail and
// role claims, and the user-info endpoint answers 503), "userinfo-down" (the user-info endpoint
// answers 503).
import { createServer } from 'node:http';
import { generateKeyPairSync, sign } from 'node:crypto';
import { parseArgs } from 'node:util';
import Provider from 'oidc-provider';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    'client-id': { type: 'string' },
    'client-secret': { type: 'string' },
    'redirect-uri': { type: 'string', multiple: true },
    'post-logout-redirect-uri': { type: 'string', multiple: true },
  },
});
const list = (value) => (value ? value.split(',').map((s) => s.trim()).filter(Boolean) : undefined);
const port = Number(args.port ?? process.env.OIDC_PORT ?? 0);
const clientId = args['client-id'] ?? process.env.OIDC_CLIENT_ID ?? 'tradia';
const clientSecret = args['client-secret'] ?? process.env.OIDC_CLIENT_SECRET ?? 'tradia-test-secret';
const redirectUris = args['redirect-uri'] ?? list(process.env.OIDC_REDIRECT_URIS)
  ?? ['http://127.0.0.1:8080/api/v1/auth/oidc/callback'];
const postLogoutRedirectUris = args['post-logout-redirect-uri']
  ?? list(process.env.OIDC_POST_LOGOUT_REDIRECT_URIS) ?? ['http://127.0.0.1:8080/'];
const tamper = process.env.OIDC_TAMPER ?? '';

const accounts = {
  alice: {
    preferred_username: 'alice',
    name: 'Alice Martin',
    email: 'alice@example.org',
    email_verified: true,
    realm_access: { roles: ['tradia-admin', 'staff'] },
    groups: ['admins'],
  },
  bob: {
    preferred_username: 'bob',
    given_name: 'Bob',
    family_name: 'Durand',
    email: 'bob@example.org',
    email_verified: false,
    realm_access: { roles: ['staff'] },
    groups: 'translators',
  },
};

// ES256 keys: generated at once at every start, where an RSA key can take seconds on a busy
// machine. The ID tokens are signed with ES256 (the client is registered for it).
const newKey = (kid) => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, jwk: { ...privateKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' } };
};
const signingKey = newKey('test-key-1');
const otherKey = newKey('test-key-1');
const rotatedKey = newKey('test-key-2');

const b64 = (value) => Buffer.from(value).toString('base64url');
const signJwt = (header, payload, key) => {
  const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(payload))}`;
  const signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
};

/** The ID token altered as OIDC_TAMPER says. */
function tampered(idToken) {
  const [h, p, s] = idToken.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url').toString());
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
  switch (tamper) {
    case 'signature':
      return `${h}.${b64(JSON.stringify({ ...payload, sub: 'bob' }))}.${s}`;
    case 'nonce':
      return signJwt(header, { ...payload, nonce: 'another-nonce' }, signingKey.privateKey);
    case 'audience':
      return signJwt(header, { ...payload, aud: 'another-client' }, signingKey.privateKey);
    case 'issuer':
      return signJwt(header, { ...payload, iss: 'http://127.0.0.1:1/' }, signingKey.privateKey);
    case 'expired': {
      const now = Math.floor(Date.now() / 1000);
      return signJwt(header, { ...payload, iat: now - 7200, exp: now - 3600 }, signingKey.privateKey);
    }
    case 'foreign-key':
      return signJwt(header, payload, otherKey.privateKey);
    case 'unsigned':
      return `${b64(JSON.stringify({ alg: 'none', typ: header.typ }))}.${p}.`;
    case 'unknown-key':
      return signJwt({ ...header, kid: 'unpublished' }, payload, otherKey.privateKey);
    default:
      throw new Error(`unknown OIDC_TAMPER value ${JSON.stringify(tamper)}`);
  }
}

const server = createServer();
server.listen(port, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: redirectUris,
      post_logout_redirect_uris: postLogoutRedirectUris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'ES256',
    }, {
      // The same registration as a public client (no secret: PKCE alone).
      client_id: `${clientId}-public`,
      redirect_uris: redirectUris,
      post_logout_redirect_uris: postLogoutRedirectUris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      id_token_signed_response_alg: 'ES256',
    }],
    pkce: { required: () => true },
    // By default (as the specification says for the code flow) the ID token carries no profile
    // claims: they come from the user info.
    conformIdTokenClaims: tamper !== 'id-token-claims',
    // oidc-provider signs with the first key of the set.
    jwks: { keys: tamper === 'rotate' ? [rotatedKey.jwk, signingKey.jwk] : [signingKey.jwk] },
    cookies: { keys: ['tradia-oidc-test-cookie-key'] },
    claims: {
      openid: ['sub'],
      profile: ['name', 'given_name', 'family_name', 'preferred_username', 'realm_access', 'groups'],
      email: ['email', 'email_verified'],
    },
    features: {
      devInteractions: { enabled: true },
      rpInitiatedLogout: { enabled: true },
    },
    async findAccount(ctx, id) {
      const claims = accounts[id];
      if (!claims) return undefined;
      return { accountId: id, async claims() { return { sub: id, ...claims }; } };
    },
  });
  // Development interactions over http on 127.0.0.1: no proxy, no TLS.
  provider.proxy = false;
  let keySetAnswers = 0;
  if (tamper === 'id-token-claims' || tamper === 'userinfo-down') {
    provider.use(async (ctx, next) => {
      if (ctx.path === '/me') {
        ctx.status = 503;
        ctx.body = 'user info is down';
        return;
      }
      await next();
    });
  } else if (tamper === 'rotate') {
    provider.use(async (ctx, next) => {
      await next();
      if (ctx.path === '/jwks' && ctx.status === 200 && keySetAnswers++ === 0) {
        ctx.body = { keys: ctx.body.keys.filter((key) => key.kid !== 'test-key-2') };
      }
    });
  } else if (tamper) {
    provider.use(async (ctx, next) => {
      await next();
      if (ctx.path === '/token' && ctx.status === 200 && ctx.body?.id_token) {
        ctx.body = { ...ctx.body, id_token: tampered(ctx.body.id_token) };
      }
    });
  }
  server.on('request', provider.callback());
  console.log(`ready ${issuer}`);
});

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
if (process.env.OIDC_EXIT_ON_STDIN_CLOSE === '1') {
  process.stdin.on('end', stop);
  process.stdin.resume();
}

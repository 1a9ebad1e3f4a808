// The OIDC provider: oidc-provider 9 configured for every grant planet-profiles uses.
//
// Access tokens (see README.md, "Which access token you get"):
//   * for the protected API (resource = API audience): a JWT, RFC 9068 `at+jwt`, with scopes api.read/api.write.
//     Requested with `resource=<audience>`, or by default when the request asks for an api.* scope, and always
//     for client_credentials (a client token is only useful at the API).
//   * for OPAQUE_RESOURCE: an opaque token with the same scopes, introspectable and revocable.
//   * otherwise (user flows without api.* scopes): an opaque token for userinfo, introspectable and revocable.

import { randomBytes } from 'node:crypto';

import Provider, { errors } from 'oidc-provider';

import { DEVICE_CODE, PASSWORD } from './clients.mjs';
import { PARAMETERS as PASSWORD_PARAMETERS, passwordGrantHandler } from './password_grant.mjs';

export const API_SCOPES = ['api.read', 'api.write'];
export const OPAQUE_RESOURCE = 'urn:planet-profiles:devserver:opaque-api';
const OIDC_SCOPES = ['openid', 'offline_access', 'profile', 'email'];

const DAY = 24 * 60 * 60;

/** Any login is a valid account (devInteractions accepts any login); claims are derived from its id. */
async function findAccount(_ctx, sub) {
  return {
    accountId: sub,
    async claims() {
      return {
        sub,
        name: `Test User ${sub}`,
        preferred_username: sub,
        email: sub.includes('@') ? sub : `${sub}@example.com`,
        email_verified: true,
      };
    },
  };
}

/**
 * Create the provider.
 *
 * @param {object} options
 * @param {string} options.issuer e.g. http://127.0.0.1:PORT
 * @param {string} options.apiAudience resource indicator and `aud` of the protected API's JWT access tokens
 * @param {number} options.accessTtl access token lifetime in seconds (all access tokens)
 * @param {number} options.refreshTtl refresh token lifetime in seconds
 * @param {number|undefined} options.deviceInterval device flow polling interval to announce and enforce
 * @param {{keys: object[]}} options.jwks the provider's private signing keys
 * @param {object[]} options.clients client metadata (clients.mjs)
 * @param {{record: Function}} options.stats token request counter (stats.mjs)
 */
export function createProvider({
  issuer, apiAudience, accessTtl, refreshTtl, deviceInterval, jwks, clients, stats,
}) {
  const resourceServers = {
    [apiAudience]: {
      scope: API_SCOPES.join(' '),
      audience: apiAudience,
      accessTokenFormat: 'jwt',
      accessTokenTTL: accessTtl,
      jwt: { sign: { alg: 'RS256' } },
    },
    [OPAQUE_RESOURCE]: {
      scope: API_SCOPES.join(' '),
      audience: OPAQUE_RESOURCE,
      accessTokenFormat: 'opaque',
      accessTokenTTL: accessTtl,
    },
  };

  async function getResourceServerInfo(_ctx, resourceIndicator) {
    // Accept the API audience with or without its trailing slash.
    const info = resourceServers[resourceIndicator] ?? resourceServers[URL.parse(resourceIndicator)?.href];
    if (!info) throw new errors.InvalidTarget(`unknown resource indicator ${resourceIndicator}`);
    return info;
  }

  /** Resource to use when the request names none (RFC 8707 leaves this to the server). */
  async function defaultResource(ctx, _client, oneOf) {
    if (oneOf) return oneOf.includes(apiAudience) ? apiAudience : oneOf[0];
    const { grant_type: grantType, scope } = ctx.oidc.params;
    if (grantType === 'client_credentials') return apiAudience;
    const scopes = scope?.split(' ') ?? [];
    return scopes.some((s) => API_SCOPES.includes(s)) ? apiAudience : undefined;
  }

  const configuration = {
    clients,
    jwks,
    findAccount,
    scopes: OIDC_SCOPES,
    claims: {
      openid: ['sub'],
      profile: ['name', 'preferred_username'],
      email: ['email', 'email_verified'],
    },
    cookies: { keys: [randomBytes(32).toString('base64url')] },

    features: {
      devInteractions: { enabled: true }, // login and consent pages that accept anything
      clientCredentials: { enabled: true },
      deviceFlow: { enabled: true },
      userinfo: { enabled: true },
      introspection: {
        enabled: true,
        // Confidential clients may introspect any token; public clients only their own.
        async allowedPolicy(ctx, client, token) {
          return client.clientAuthMethod !== 'none' || token.clientId === ctx.oidc.client.clientId;
        },
      },
      revocation: {
        enabled: true,
        // RFC 7009 §2.1: a client may revoke only tokens issued to it.
        async allowedPolicy(_ctx, client, token) {
          return token.clientId === client.clientId;
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource,
        getResourceServerInfo,
        // At the token endpoint, keep the resource granted at authorization even when `openid` was asked for
        // (oidc-provider's default would issue a userinfo token then).
        useGrantedResource: async () => true,
      },
    },

    // PKCE (RFC 7636, S256 only in oidc-provider 9) is required for public clients, optional otherwise.
    pkce: { required: (_ctx, client) => client.clientAuthMethod === 'none' },

    // Refresh tokens: only for clients allowed the refresh_token grant that were granted offline_access.
    // Note: at the authorization endpoint oidc-provider drops offline_access unless prompt=consent is sent.
    async issueRefreshToken(_ctx, client, source) {
      return client.grantTypeAllowed('refresh_token') && source.scopes.has('offline_access');
    },
    // Every refresh rotates the refresh token. Re-using a rotated (consumed) one fails with invalid_grant
    // and revokes the whole grant (reuse detection), so the newer token stops working too.
    rotateRefreshToken: true,

    ttl: {
      AccessToken: accessTtl,
      ClientCredentials: accessTtl,
      AuthorizationCode: 60,
      DeviceCode: 600,
      IdToken: 3600,
      Interaction: 3600,
      RefreshToken: refreshTtl,
      Grant: Math.max(refreshTtl, 14 * DAY),
      Session: 14 * DAY,
    },
    // Rendered error pages and JSON errors keep their descriptions (useful in test failures).
    renderError(ctx, out) {
      ctx.type = 'json';
      ctx.body = out;
    },
  };

  const provider = new Provider(issuer, configuration);

  provider.registerGrantType(PASSWORD, passwordGrantHandler({
    findAccount, defaultResource, getResourceServerInfo, oidcScopes: new Set(OIDC_SCOPES),
  }), PASSWORD_PARAMETERS);

  provider.use(countTokenRequests(stats));
  provider.use(enforceRegisteredSecretMethod(clients));
  if (deviceInterval) provider.use(enforceDeviceInterval(deviceInterval));
  return provider;
}

/** Koa middleware: record every token endpoint request (after it ran, when its grant_type is known). */
function countTokenRequests(stats) {
  return async function countTokenRequest(ctx, next) {
    try {
      await next();
    } finally {
      if (ctx.oidc?.route === 'token') stats.record(ctx.oidc.params?.grant_type, ctx.status);
    }
  };
}

/**
 * Koa middleware: announce `interval` in device authorization responses and answer polls that come faster
 * with slow_down (RFC 8628 §3.2, §3.5). oidc-provider itself does neither.
 */
function enforceDeviceInterval(interval) {
  const lastPoll = new Map(); // device_code -> epoch ms of the last poll

  return async function deviceInterval(ctx, next) {
    await next();
    const route = ctx.oidc?.route;
    if (route === 'device_authorization' && ctx.status === 200) {
      ctx.body = { ...ctx.body, interval };
    } else if (route === 'token' && ctx.oidc.params?.grant_type === DEVICE_CODE) {
      const code = ctx.oidc.params.device_code;
      const now = Date.now();
      const previous = lastPoll.get(code);
      lastPoll.set(code, now);
      if (ctx.body?.error === 'authorization_pending' && previous && now - previous < interval * 1000) {
        ctx.body = { error: 'slow_down', error_description: `poll at most every ${interval} s` };
      }
    }
  };
}

// Endpoints where clients authenticate (RFC 6749 §2.3), at oidc-provider's fixed routes.
const CLIENT_AUTH_PATHS = new Set(['/token', '/device/auth', '/token/revocation', '/token/introspection']);
const MAX_FORM = 56 * 1024;

/**
 * Koa middleware: a client registered for `client_secret_basic` may not send its secret in the form, nor one
 * registered for `client_secret_post` in an HTTP Basic header: `401 invalid_client`, as Okta, Auth0 and
 * others answer. (oidc-provider itself accepts either for both.) The form it reads is handed on to
 * oidc-provider as `req.body`.
 */
function enforceRegisteredSecretMethod(clients) {
  const registered = new Map(clients
    .filter((client) => client.token_endpoint_auth_method.startsWith('client_secret_'))
    .map((client) => [client.client_id, client.token_endpoint_auth_method]));

  return async function registeredSecretMethod(ctx, next) {
    if (ctx.method !== 'POST' || !CLIENT_AUTH_PATHS.has(ctx.path) || !ctx.is('application/x-www-form-urlencoded')) {
      return next();
    }
    const chunks = [];
    let size = 0;
    for await (const chunk of ctx.req) {
      size += chunk.length;
      if (size > MAX_FORM) break;
      chunks.push(chunk);
    }
    const raw = Buffer.concat(chunks).toString('utf8');
    ctx.req.body = raw;
    const form = new URLSearchParams(raw);
    const [scheme, credentials] = (ctx.get('authorization') || '').split(' ');
    let used;
    let clientId;
    if (scheme?.toLowerCase() === 'basic' && credentials) {
      used = 'client_secret_basic';
      const basic = Buffer.from(credentials, 'base64').toString('utf8');
      try {
        clientId = decodeURIComponent(basic.slice(0, basic.indexOf(':')).replaceAll('+', ' '));
      } catch {
        clientId = undefined;
      }
    } else if (form.has('client_secret')) {
      used = 'client_secret_post';
      clientId = form.get('client_id');
    }
    const method = registered.get(clientId);
    if (used && method && used !== method) {
      ctx.status = 401;
      ctx.set('cache-control', 'no-store');
      ctx.body = {
        error: 'invalid_client',
        error_description: `client authentication failed: ${clientId} is registered for ${method}, not ${used}`,
      };
      return undefined;
    }
    return next();
  };
}

// The small protected API: what a planet-profiles request authenticator is pointed at.
//
//   GET  /api/hello       any valid credential -> 200 {"ok": true, ...}
//   GET  /api/write       like /api/hello, but a JWT must carry the api.write scope (else 403 insufficient_scope)
//   GET  /_stats          token endpoint counters {"token_requests": N, "by_grant": {...}, ...}
//   POST /_stats/reset    zero the counters
//   POST /_api_keys       {"api_key": "..."}: accept one more static API key (e.g. one a test double issued)
//
// Credentials: `Authorization: Bearer <JWT access token>` (RFC 6750 / RFC 9068, verified against the
// provider's keys, `iss`, `aud`, `exp`), or a static API key sent with any scheme (`Bearer <key>`,
// `api-key <key>`, a custom prefix) or as the user name of HTTP Basic (`<key>:`), as Planet's API accepts it.

import { createLocalJWKSet, jwtVerify } from 'jose';

const REALM = 'devserver-api';
const MAX_BODY = 64 * 1024;

function send(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}

/** RFC 6750 §3 challenge; quotes in the description are replaced so the header stays well-formed. */
function challenge(error, description, extra = '') {
  if (!error) return `Bearer realm="${REALM}"`;
  const safe = description.replaceAll('"', "'").replaceAll('\\', '/');
  return `Bearer realm="${REALM}", error="${error}", error_description="${safe}"${extra}`;
}

/** An HTTP error the request handler turns into a JSON response with a WWW-Authenticate challenge. */
class AuthError extends Error {
  constructor(status, error, description, extraChallenge = '') {
    super(description);
    this.status = status;
    this.error = error;
    this.extraChallenge = extraChallenge;
  }

  respond(res) {
    const body = this.error ? { error: this.error, error_description: this.message } : { error: 'unauthorized' };
    send(res, this.status, body, {
      'www-authenticate': challenge(this.error, this.message, this.extraChallenge),
    });
  }
}

async function readJson(req) {
  let size = 0;
  const chunks = [];
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY) throw new Error('body too large');
    chunks.push(chunk);
  }
  return chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
}

/**
 * Create the API's request handler (for `http.createServer`).
 *
 * @param {object} options
 * @param {string} options.issuer expected `iss`
 * @param {string} options.audience expected `aud`
 * @param {{keys: object[]}} options.jwks the provider's public signing keys
 * @param {string[]} options.apiKeys static API keys accepted from the start
 * @param {import('./stats.mjs').TokenStats} options.stats
 */
export function createApiHandler({ issuer, audience, jwks, apiKeys, stats }) {
  const keySet = createLocalJWKSet(jwks);
  const staticKeys = new Set(apiKeys);

  /** Resolve the request's credential to the JSON the API answers with, or throw an AuthError. */
  async function authenticate(req) {
    const header = req.headers.authorization;
    if (!header) throw new AuthError(401, undefined, 'no credentials');

    const match = /^(\S+)\s+(\S+)\s*$/u.exec(header);
    if (!match) throw new AuthError(401, 'invalid_request', 'malformed Authorization header');
    const [, scheme, credential] = match;

    let apiKey = credential;
    if (scheme.toLowerCase() === 'basic') {
      apiKey = Buffer.from(credential, 'base64').toString('utf8').split(':')[0];
    }
    if (staticKeys.has(apiKey)) return { ok: true, api_key: true, scheme };

    if (scheme.toLowerCase() !== 'bearer') throw new AuthError(401, 'invalid_token', `unknown ${scheme} credential`);
    try {
      const { payload } = await jwtVerify(credential, keySet, {
        issuer,
        audience,
        typ: 'at+jwt',
        algorithms: ['RS256', 'PS256', 'ES256'],
        requiredClaims: ['exp', 'iat', 'sub', 'client_id'],
      });
      return {
        ok: true, sub: payload.sub, client_id: payload.client_id, scope: payload.scope ?? '', aud: payload.aud,
      };
    } catch (err) {
      throw new AuthError(401, 'invalid_token', err.code ? `${err.code}: ${err.message}` : 'not a valid JWT');
    }
  }

  async function route(req, res) {
    const { pathname } = new URL(req.url, 'http://api.invalid');
    const key = `${req.method} ${pathname}`;

    switch (key) {
      case 'GET /api/hello':
        return send(res, 200, await authenticate(req));
      case 'GET /api/write': {
        const principal = await authenticate(req);
        if (!principal.api_key && !principal.scope.split(' ').includes('api.write')) {
          throw new AuthError(403, 'insufficient_scope', 'api.write scope required', ', scope="api.write"');
        }
        return send(res, 200, principal);
      }
      case 'GET /_stats':
        return send(res, 200, stats);
      case 'POST /_stats/reset':
        stats.reset();
        return send(res, 200, stats);
      case 'POST /_api_keys': {
        const apiKey = await readJson(req).then((body) => body?.api_key, () => undefined);
        if (typeof apiKey !== 'string' || !apiKey) {
          return send(res, 400, { error: 'invalid_request', error_description: 'JSON body {"api_key": "..."} required' });
        }
        staticKeys.add(apiKey);
        return send(res, 200, { ok: true });
      }
      case 'GET /':
        return send(res, 200, {
          issuer, audience, endpoints: ['/api/hello', '/api/write', '/_stats', '/_stats/reset', '/_api_keys'],
        });
      default:
        return send(res, 404, { error: 'not_found' });
    }
  }

  return (req, res) => {
    route(req, res).catch((err) => {
      if (err instanceof AuthError) return err.respond(res);
      console.error('api error:', err);
      return send(res, 500, { error: 'server_error' });
    });
  };
}

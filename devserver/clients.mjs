// The fixed test clients: one per grant x client-authentication pair planet-profiles supports. oidc-provider
// enforces each client's registered token_endpoint_auth_method (the `*-secret` clients accept only HTTP Basic,
// the `*-secret-post` ones only the form body), as Okta, Auth0 and others do.
//
// Ids and secrets are test values, documented in README.md and written to `<state-dir>/clients.json`
// (which the pytest fixture reads, so this table is the single source of truth).

export const DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code';
export const PASSWORD = 'password';

// Loopback redirect URIs. Every client that redirects is `application_type: native`, so oidc-provider
// accepts any port on these (RFC 8252 §7.3); the path must still match exactly.
const LOOPBACK_REDIRECTS = [
  'http://127.0.0.1/callback',
  'http://localhost/callback',
  'http://[::1]/callback',
  'http://127.0.0.1/',
  'http://localhost/',
  'http://127.0.0.1',
  'http://localhost',
];

// client_id -> [token_endpoint_auth_method, grant_types]
const TABLE = {
  'native-public': ['none', ['authorization_code', 'refresh_token']],
  'auth-code-secret': ['client_secret_basic', ['authorization_code', 'refresh_token']],
  'auth-code-secret-post': ['client_secret_post', ['authorization_code', 'refresh_token']],
  'auth-code-pubkey': ['private_key_jwt', ['authorization_code', 'refresh_token']],
  'device-public': ['none', [DEVICE_CODE, 'refresh_token']],
  'device-secret': ['client_secret_basic', [DEVICE_CODE, 'refresh_token']],
  'device-secret-post': ['client_secret_post', [DEVICE_CODE, 'refresh_token']],
  'device-pubkey': ['private_key_jwt', [DEVICE_CODE, 'refresh_token']],
  'cc-secret': ['client_secret_basic', ['client_credentials']],
  'cc-secret-post': ['client_secret_post', ['client_credentials']],
  'cc-pubkey': ['private_key_jwt', ['client_credentials']],
  'ro-public': ['none', [PASSWORD, 'refresh_token']],
  'ro-secret': ['client_secret_basic', [PASSWORD, 'refresh_token']],
  'ro-secret-post': ['client_secret_post', [PASSWORD, 'refresh_token']],
  'ro-pubkey': ['private_key_jwt', [PASSWORD, 'refresh_token']],
};

/** The secret of a `client_secret_*` client: a readable test value. */
export const clientSecret = (clientId) => `${clientId}-secret-value`;

/**
 * oidc-provider client metadata for every test client.
 *
 * @param {{keys: object[]}} clientJwks public keys registered for every private_key_jwt client
 */
export function clientMetadata(clientJwks) {
  return Object.entries(TABLE).map(([clientId, [authMethod, grantTypes]]) => {
    const redirects = grantTypes.includes('authorization_code');
    const client = {
      client_id: clientId,
      client_name: `devserver ${clientId}`,
      token_endpoint_auth_method: authMethod,
      grant_types: grantTypes,
      response_types: redirects ? ['code'] : [],
      redirect_uris: redirects ? LOOPBACK_REDIRECTS : [],
      application_type: redirects ? 'native' : 'web',
    };
    if (authMethod.startsWith('client_secret_')) client.client_secret = clientSecret(clientId);
    // No token_endpoint_auth_signing_alg: the client may sign its assertion with RS256, PS256 or ES256.
    if (authMethod === 'private_key_jwt') client.jwks = clientJwks;
    return client;
  });
}

/** The catalog written to `clients.json`: what a test needs to act as each client. */
export function clientCatalog(metadata, keyFiles) {
  return Object.fromEntries(metadata.map((client) => [client.client_id, {
    client_id: client.client_id,
    client_secret: client.client_secret ?? null,
    token_endpoint_auth_method: client.token_endpoint_auth_method,
    grant_types: client.grant_types,
    redirect_uris: client.redirect_uris,
    private_key_files: client.token_endpoint_auth_method === 'private_key_jwt' ? keyFiles : null,
  }]));
}

#!/usr/bin/env node
// planet-profiles dev server: a local OIDC provider (npm oidc-provider) and a small protected API.
//
//   node devserver/server.mjs [--port 0] [--api-port 0] [--access-ttl 300] [--state-dir DIR] ...
//
// Both listen on 127.0.0.1 only. When ready, exactly one line goes to stdout:
//   READY {"issuer": "http://127.0.0.1:PORT", "api": "http://127.0.0.1:API_PORT", "audience": ..., ...}
// Everything else (oidc-provider notices included) goes to stderr. SIGTERM / SIGINT stop it cleanly.
// See README.md for the clients, keys and test credentials.

import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { createApiHandler } from './api.mjs';
import { clientCatalog, clientMetadata } from './clients.mjs';
import { CLIENT_KEY_FILES, CLIENT_KEY_PASSPHRASE, loadKeys, publicJwks } from './keys.mjs';
import { TEST_PASSWORD } from './password_grant.mjs';
import { OPAQUE_RESOURCE, createProvider } from './provider.mjs';
import { TokenStats } from './stats.mjs';

const HOST = '127.0.0.1';
const DEFAULT_API_KEY = 'static-test-key-123';

// Keep stdout for the READY line: route console.log/info (oidc-provider prints notices there) to stderr.
console.log = console.error;
console.info = console.error;

const USAGE = `usage: node server.mjs [options]   (each option also reads the env variable shown)
  --port N             OIDC provider port, 0 = any free port           DEVSERVER_PORT (0)
  --api-port N         protected API port, 0 = any free port           DEVSERVER_API_PORT (0)
  --access-ttl S       access token lifetime in seconds                DEVSERVER_ACCESS_TTL (300)
  --refresh-ttl S      refresh token lifetime in seconds               DEVSERVER_REFRESH_TTL (86400)
  --device-interval S  announce a device polling interval, enforce it with slow_down
                                                                       DEVSERVER_DEVICE_INTERVAL (off)
  --state-dir DIR      keep keys there, write clients.json             DEVSERVER_STATE_DIR (in memory)
  --api-key KEY        one more static API key (repeatable)            DEVSERVER_API_KEYS (comma-separated)`;

/** A bad command line: reported with the usage text, without a stack trace. */
class UsageError extends Error {}

function parseOptions() {
  const env = process.env;
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: env.DEVSERVER_PORT ?? '0' },
      'api-port': { type: 'string', default: env.DEVSERVER_API_PORT ?? '0' },
      'access-ttl': { type: 'string', default: env.DEVSERVER_ACCESS_TTL ?? '300' },
      'refresh-ttl': { type: 'string', default: env.DEVSERVER_REFRESH_TTL ?? '86400' },
      'device-interval': { type: 'string', default: env.DEVSERVER_DEVICE_INTERVAL },
      'state-dir': { type: 'string', default: env.DEVSERVER_STATE_DIR },
      'api-key': { type: 'string', multiple: true, default: env.DEVSERVER_API_KEYS?.split(',') ?? [] },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.error(USAGE);
    process.exit(0);
  }

  const integer = (name, min) => {
    const value = Number(values[name]);
    if (!Number.isSafeInteger(value) || value < min) throw new UsageError(`--${name} must be an integer >= ${min}`);
    return value;
  };
  return {
    port: integer('port', 0),
    apiPort: integer('api-port', 0),
    accessTtl: integer('access-ttl', 1),
    refreshTtl: integer('refresh-ttl', 1),
    deviceInterval: values['device-interval'] === undefined ? undefined : integer('device-interval', 1),
    stateDir: values['state-dir'] && path.resolve(values['state-dir']),
    apiKeys: [DEFAULT_API_KEY, ...values['api-key'].filter(Boolean)],
  };
}

function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => resolve(server.address().port));
  });
}

/** Write `<state-dir>/clients.json`: every client with its secret or key files, and the test credentials. */
function writeClientCatalog(stateDir, clients, issuer) {
  const keyFiles = Object.fromEntries(
    Object.entries(CLIENT_KEY_FILES).map(([name, file]) => [name, path.join(stateDir, file)]),
  );
  const catalog = {
    issuer,
    clients: clientCatalog(clients, keyFiles),
    private_key_passphrase: CLIENT_KEY_PASSPHRASE, // of the rsaEncrypted key file
    test_user: { username: 'any non-empty name', password: TEST_PASSWORD },
  };
  writeFileSync(path.join(stateDir, 'clients.json'), `${JSON.stringify(catalog, null, 2)}\n`, { mode: 0o600 });
}

async function main() {
  const options = parseOptions();
  const { providerJwks, clientJwks } = loadKeys(options.stateDir);

  // Bind first: with port 0 the issuer and audience URLs are only known once the sockets are listening.
  const oidcServer = createServer();
  const apiServer = createServer();
  const issuer = `http://${HOST}:${await listen(oidcServer, options.port)}`;
  const api = `http://${HOST}:${await listen(apiServer, options.apiPort)}`;
  const audience = `${api}/`;

  const stats = new TokenStats();
  const clients = clientMetadata(clientJwks);
  const provider = createProvider({
    issuer,
    apiAudience: audience,
    accessTtl: options.accessTtl,
    refreshTtl: options.refreshTtl,
    deviceInterval: options.deviceInterval,
    jwks: providerJwks,
    clients,
    stats,
  });
  oidcServer.on('request', provider.callback());
  apiServer.on('request', createApiHandler({
    issuer, audience, jwks: publicJwks(providerJwks), apiKeys: options.apiKeys, stats,
  }));

  if (options.stateDir) writeClientCatalog(options.stateDir, clients, issuer);

  const stop = () => {
    for (const server of [oidcServer, apiServer]) {
      server.close();
      server.closeAllConnections();
    }
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);

  const ready = {
    issuer,
    api,
    audience,
    opaque_resource: OPAQUE_RESOURCE,
    access_ttl: options.accessTtl,
    state_dir: options.stateDir ?? null,
  };
  process.stdout.write(`READY ${JSON.stringify(ready)}\n`);
}

main().catch((err) => {
  if (err instanceof UsageError || err.code?.startsWith('ERR_PARSE_ARGS')) {
    console.error(`devserver: ${err.message}\n${USAGE}`);
    process.exit(2);
  }
  console.error(`devserver: ${err.stack ?? err}`);
  process.exit(1);
});

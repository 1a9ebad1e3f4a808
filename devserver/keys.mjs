// Key material of the dev server: the provider's token-signing keys and the test clients' key pairs.
//
// Keys are generated on first start. With a state directory they are written there (0600) and reused on the
// next start, so tokens and demo profiles survive a restart; without one they live in memory only.
//
//   provider-jwks.json          private JWKS the provider signs ID tokens and JWT access tokens with
//   client-rsa.pem              PKCS#8 RSA-2048 private key of every *-pubkey client (RS256, PS256)
//   client-ec.pem               PKCS#8 EC P-256 private key of every *-pubkey client (ES256)
//   client-rsa-encrypted.pem    the RSA key again, encrypted with CLIENT_KEY_PASSPHRASE (for `client_privkey_password`)

import { createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Passphrase of `client-rsa-encrypted.pem`. A test value, documented in README.md. */
export const CLIENT_KEY_PASSPHRASE = 'devserver-key-passphrase';

export const CLIENT_KEY_FILES = {
  rsa: 'client-rsa.pem',
  ec: 'client-ec.pem',
  rsaEncrypted: 'client-rsa-encrypted.pem',
};

function writePrivate(file, text) {
  writeFileSync(file, text, { mode: 0o600 });
}

/** Load `name` from `dir`, or create it with `make()` (and save it when `dir` is set). */
function loadOrCreate(dir, name, make) {
  const file = dir && path.join(dir, name);
  if (file && existsSync(file)) return readFileSync(file, 'utf8');
  const text = make();
  if (file) writePrivate(file, text);
  return text;
}

function newKeyPem(type) {
  const options = type === 'rsa' ? { modulusLength: 2048 } : { namedCurve: 'P-256' };
  const { privateKey } = generateKeyPairSync(type, options);
  return privateKey.export({ type: 'pkcs8', format: 'pem' });
}

/** A public JWK for a client's `jwks`, with a `kid` derived from the file name so it is stable. */
function publicJwk(pem, kid) {
  return { ...createPublicKey(pem).export({ format: 'jwk' }), kid, use: 'sig' };
}

/**
 * Load or create all key material.
 *
 * @param {string|undefined} stateDir directory to persist keys in, or undefined for in-memory keys
 * @returns {{providerJwks: {keys: object[]}, clientJwks: {keys: object[]}, clientKeyPems: Record<string,string>}}
 */
export function loadKeys(stateDir) {
  if (stateDir) mkdirSync(stateDir, { recursive: true, mode: 0o700 });

  const providerJwks = JSON.parse(loadOrCreate(stateDir, 'provider-jwks.json', () => {
    const rsa = createPrivateKey(newKeyPem('rsa')).export({ format: 'jwk' });
    const ec = createPrivateKey(newKeyPem('ec')).export({ format: 'jwk' });
    return JSON.stringify({
      keys: [
        // The first key of an algorithm wins: RS256 is the default signing algorithm for tokens.
        { ...rsa, kid: `rs-${randomUUID()}`, alg: 'RS256', use: 'sig' },
        { ...ec, kid: `es-${randomUUID()}`, alg: 'ES256', use: 'sig' },
      ],
    }, null, 2);
  }));

  const rsaPem = loadOrCreate(stateDir, CLIENT_KEY_FILES.rsa, () => newKeyPem('rsa'));
  const ecPem = loadOrCreate(stateDir, CLIENT_KEY_FILES.ec, () => newKeyPem('ec'));
  const rsaEncryptedPem = loadOrCreate(stateDir, CLIENT_KEY_FILES.rsaEncrypted, () => createPrivateKey(rsaPem).export({
    type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: CLIENT_KEY_PASSPHRASE,
  }));

  return {
    providerJwks,
    clientJwks: { keys: [publicJwk(rsaPem, 'client-rsa'), publicJwk(ecPem, 'client-ec')] },
    clientKeyPems: { rsa: rsaPem, ec: ecPem, rsaEncrypted: rsaEncryptedPem },
  };
}

/** The public half of a private JWKS (what the protected API verifies access tokens with). */
export function publicJwks(privateJwks) {
  return {
    keys: privateJwks.keys.map(({ kid, alg, use, ...jwk }) => ({
      ...createPublicKey({ key: jwk, format: 'jwk' }).export({ format: 'jwk' }), kid, alg, use,
    })),
  };
}

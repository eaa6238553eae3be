#!/usr/bin/env node
/**
 * An integrator's client for OpenNHIS, in one file: SMART Backend Services
 * (OAuth 2.0 client credentials with a private_key_jwt client assertion, RFC 7523),
 * using only `jose`. Run from a clone (`npm ci`), or copy it and `npm install jose`.
 *
 *   node examples/client-credentials.mjs keygen <path-prefix>
 *       Makes an ES384 key pair: <prefix>.private.jwk.json (keep it, mode 0600) and
 *       <prefix>.jwks.json (the public JWKS to register the client with).
 *
 *   node examples/client-credentials.mjs token --base <url> --client-id <id> --key <prefix>.private.jwk.json [--scope "..."]
 *       Finds the token endpoint (GET <base>/.well-known/smart-configuration), signs a
 *       one-minute client assertion for it, exchanges it, and prints the access token.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT } from 'jose';

const ALG = 'ES384';

async function keygen(prefix) {
  const { privateKey, publicKey } = await generateKeyPair(ALG, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  writeFileSync(`${prefix}.private.jwk.json`, `${JSON.stringify({ ...(await exportJWK(privateKey)), kid, alg: ALG, use: 'sig' }, null, 2)}\n`, { mode: 0o600 });
  writeFileSync(`${prefix}.jwks.json`, `${JSON.stringify({ keys: [{ ...publicJwk, kid, alg: ALG, use: 'sig' }] }, null, 2)}\n`);
  process.stdout.write(`wrote ${prefix}.private.jwk.json (keep it secret) and ${prefix}.jwks.json (register it)\n`);
}

async function token({ base, clientId, keyFile, scope }) {
  // 1. Discovery: where to ask, and which authentication the server takes.
  const discovery = await fetch(`${base.replace(/\/$/, '')}/.well-known/smart-configuration`);
  if (!discovery.ok) throw new Error(`smart-configuration: HTTP ${discovery.status}`);
  const { token_endpoint: tokenEndpoint } = await discovery.json();

  // 2. The client assertion: a JWT about this client, for the token endpoint, signed with its private key.
  const jwk = JSON.parse(readFileSync(keyFile, 'utf8'));
  const now = Math.floor(Date.now() / 1000);
  const assertion = await new SignJWT({})
    .setProtectedHeader({ alg: jwk.alg ?? ALG, kid: jwk.kid, typ: 'JWT' })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(tokenEndpoint)
    .setIssuedAt(now)
    .setExpirationTime(now + 60)
    .setJti(randomUUID())
    .sign(await importJWK(jwk, jwk.alg ?? ALG));

  // 3. The client-credentials grant. Scopes: what this client is registered for, or fewer.
  const res = await fetch(tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
      scope,
    }),
  });
  const body = await res.json();
  if (!res.ok) throw new Error(`token endpoint: HTTP ${res.status} ${body.error}: ${body.error_description}`);
  // The token is good for body.expires_in seconds: ask again before then; no refresh tokens.
  process.stdout.write(`${body.access_token}\n`);
}

const [command, ...rest] = process.argv.slice(2);
const { values, positionals } = parseArgs({
  args: rest,
  allowPositionals: true,
  options: { base: { type: 'string' }, 'client-id': { type: 'string' }, key: { type: 'string' }, scope: { type: 'string', default: 'system/*.rs' } },
});
try {
  if (command === 'keygen' && positionals.length === 1) await keygen(positionals[0]);
  else if (command === 'token' && values.base && values['client-id'] && values.key) {
    await token({ base: values.base, clientId: values['client-id'], keyFile: values.key, scope: values.scope });
  } else {
    process.stderr.write('usage: client-credentials.mjs keygen <prefix> | token --base <url> --client-id <id> --key <file> [--scope "..."]\n');
    process.exitCode = 2;
  }
} catch (err) {
  process.stderr.write(`${err.message}\n`);
  process.exitCode = 1;
}

/**
 * Prints a bearer access token, and nothing else, for local development:
 *   npm run token -- --role <role> [--organization <facility code>] [--patient <national-id>]
 * Same configuration as `npm start` (DATABASE_URL or DATA_DIR). The server's address and the issuer
 * it checks come from the `server.json` a running `npm start` keeps in DATA_DIR, else from PORT,
 * HOST, BASE_URL and AUTH_ISSUER as the server would read them.
 *
 * Development keys live as files in DATA_DIR/dev-credentials (created on
 * first use, never when NODE_ENV=production). PGlite admits one process, so:
 *  - patient tokens are signed with the development patient-IdP key file;
 *    no database needed;
 *  - on PostgreSQL, or on PGlite while no server runs, the token is issued
 *    in-process with the server's own signing keys (same code as /auth/token);
 *  - on PGlite while the server runs, it asks the server's /auth/token with a
 *    client assertion signed by the development client key, registering a
 *    dev client for a new organization through /admin/clients first.
 */
import { parseArgs } from 'node:util';
import { createAuthService } from '../src/auth/auth-service';
import {
  DEV_DEFAULT_ORGANIZATION,
  developmentClientId,
  developmentClientInput,
  ensureDevelopmentClients,
  ensureDevelopmentKeys,
  isLocalServerRunning,
  ROLE_DEFAULT_SCOPES,
  signClientAssertion,
  signDevelopmentPatientToken,
  type DevelopmentKeys,
} from '../src/auth/development-credentials';
import { CLIENT_ASSERTION_TYPE } from '../src/auth/client-assertion';
import { locateServer, TOKEN_PATH } from '../src/auth/issuer';
import { isRole, type Role } from '../src/auth/roles';
import { loadConfig, type Config } from '../src/config/config';
import { findClient, upsertClient } from '../src/repository/clients';
import { databaseOptionsOf, openDatabase } from '../src/repository/db';
import { migrateToLatest } from '../src/repository/migrate';
import { systemClock } from '../src/shared/clock';

type ClientRole = Exclude<Role, 'patient'>;

type Server = ReturnType<typeof locateServer>;

async function viaDatabase(config: Config, server: Server, keys: DevelopmentKeys, role: ClientRole, organization: string): Promise<string> {
  const handle = await openDatabase(databaseOptionsOf(config));
  try {
    await migrateToLatest(handle.db);
    await ensureDevelopmentClients(handle.db, config, systemClock);
    const id = developmentClientId(role, organization);
    if (!(await findClient(handle.db, id))) await upsertClient(handle.db, developmentClientInput(keys, role, organization), new Date());
    const client = await findClient(handle.db, id);
    if (!client?.active) throw new Error(`Development client ${id} is inactive`);
    // Signed for the issuer the running server checks (its server.json), else as the server would be configured.
    const auth = createAuthService({ db: handle.db, config, clock: systemClock, patientIdp: null, issuer: server.issuer });
    return (await auth.issueToken(client, ROLE_DEFAULT_SCOPES[role])).access_token;
  } finally {
    await handle.close();
  }
}

async function requestToken(server: Server, keys: DevelopmentKeys, clientId: string, scopes: string[]): Promise<Response> {
  const assertion = await signClientAssertion(keys.clientPrivateJwk, clientId, `${server.issuer}${TOKEN_PATH}`, new Date());
  return fetch(`${server.url}${TOKEN_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: assertion, scope: scopes.join(' ') }).toString(),
  });
}

async function viaServer(server: Server, keys: DevelopmentKeys, role: ClientRole, organization: string): Promise<string> {
  const id = developmentClientId(role, organization);
  let res = await requestToken(server, keys, id, ROLE_DEFAULT_SCOPES[role]);
  if (res.status === 401 && organization !== DEV_DEFAULT_ORGANIZATION) {
    // Unknown dev client for this organization: register it as the dev registry admin would.
    const admin = (await (await requestToken(server, keys, developmentClientId('operator'), ROLE_DEFAULT_SCOPES.operator)).json()) as { access_token?: string };
    if (!admin.access_token) throw new Error('The running server does not know the development clients; restart it once (it registers them at start)');
    const created = await fetch(`${server.url}/admin/clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify(developmentClientInput(keys, role, organization)),
    });
    if (created.status !== 201) throw new Error(`Registering ${id} failed with HTTP ${created.status}`);
    res = await requestToken(server, keys, id, ROLE_DEFAULT_SCOPES[role]);
  }
  const body = (await res.json()) as { access_token?: string; error?: string; error_description?: string };
  if (!body.access_token) throw new Error(`Token request failed: ${body.error ?? res.status} ${body.error_description ?? ''}`);
  return body.access_token;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { role: { type: 'string' }, organization: { type: 'string' }, patient: { type: 'string' } } });
  const role = values.role ?? (values.patient ? 'patient' : undefined);
  if (!isRole(role)) throw new Error('usage: npm run token -- --role <hospital|prescriber|pharmacy|laboratory|registry-admin|analyst|auditor|operator|patient> [--organization <code>] [--patient <national-id>]');
  const config = loadConfig();
  if (!config.developmentCredentials) throw new Error('npm run token is for development; it is off with NODE_ENV=production or DEVELOPMENT_CREDENTIALS=off');
  const keys = await ensureDevelopmentKeys(config);
  if (role === 'patient') {
    if (!values.patient) throw new Error('--role patient needs --patient <national-id>');
    if (config.patientIdpIssuer) throw new Error('A real patient IdP is configured (PATIENT_IDP_ISSUER); get patient tokens there');
    const audience = config.patientIdpAudience ?? locateServer(config).issuer;
    return void process.stdout.write(`${await signDevelopmentPatientToken({ ...config, patientIdpAudience: audience }, keys, values.patient, new Date())}\n`);
  }
  if (values.patient) throw new Error('--patient goes with --role patient');
  const organization = values.organization ?? DEV_DEFAULT_ORGANIZATION;
  if (!/^[A-Za-z0-9-]{1,32}$/.test(organization)) throw new Error('--organization must be a facility code (A-Z a-z 0-9 -)');
  const server = locateServer(config);
  const serverOwnsPglite = !config.databaseUrl && (await isLocalServerRunning(server.url));
  const token = serverOwnsPglite ? await viaServer(server, keys, role, organization) : await viaDatabase(config, server, keys, role, organization);
  process.stdout.write(`${token}\n`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).message ?? String(err)}\n`);
  process.exit(1);
});

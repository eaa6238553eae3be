/**
 * Client registry CLI:
 *   npm run client -- add --id x --role pharmacy --organization PH001 \
 *     --scopes "system/MedicationRequest.rs system/MedicationDispense.c" --jwks-file key.json [--name "..."]
 *   npm run client -- add ... --jwks-uri https://client.example/jwks.json
 *   npm run client -- list | show --id x | deactivate --id x | activate --id x
 * Same configuration as `npm start` (DATABASE_URL or DATA_DIR). With the
 * embedded PGlite, stop the server first or use the admin API (/admin/clients).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseClientInput } from '../src/auth/client-input';
import { isLocalServerRunning } from '../src/auth/development-credentials';
import { locateServer } from '../src/auth/issuer';
import { loadConfig } from '../src/config/config';
import { isFhirError } from '../src/errors/fhir-error';
import { findClient, insertClient, listClients, setClientActive } from '../src/repository/clients';
import { databaseOptionsOf, openDatabase } from '../src/repository/db';
import { migrateToLatest } from '../src/repository/migrate';
import { insertAuditRows } from '../src/repository/audit-events';
import type { Db } from '../src/repository/db';
import { toAuditRow } from '../src/store/audit/audit-input';
import { uuidIds } from '../src/shared/ids';

/** Every change to a client is in the audit trail; the CLI runs with database access, as the operator. */
async function audited(db: Db, action: 'create' | 'update', clientId: string, now: Date): Promise<void> {
  const row = toAuditRow(
    { claimedClientId: 'operator-cli', interaction: action, administeredClient: clientId, patientIds: [], outcome: 'success', requestId: `cli-${uuidIds.newId()}`, when: now },
    uuidIds.newId(),
  );
  await insertAuditRows(db, [row]);
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  const { values } = parseArgs({
    args: rest,
    options: {
      id: { type: 'string' },
      name: { type: 'string' },
      role: { type: 'string' },
      organization: { type: 'string' },
      scopes: { type: 'string' },
      'jwks-file': { type: 'string' },
      'jwks-uri': { type: 'string' },
    },
  });
  const config = loadConfig();
  if (!config.databaseUrl && (await isLocalServerRunning(locateServer(config).url))) {
    throw new Error(`The server is running on the embedded database in ${config.dataDir}; stop it first, or use POST /admin/clients`);
  }
  const handle = await openDatabase(databaseOptionsOf(config));
  try {
    await migrateToLatest(handle.db);
    const now = new Date();
    switch (command) {
      case 'add': {
        const jwks = values['jwks-file'] ? (JSON.parse(readFileSync(values['jwks-file'], 'utf8')) as Record<string, unknown>) : undefined;
        // A file holding a single JWK is accepted as a one-key set.
        const keySet = jwks && !Array.isArray(jwks.keys) ? { keys: [jwks] } : jwks;
        const input = parseClientInput(
          { id: values.id, name: values.name, role: values.role, organization: values.organization, scopes: values.scopes, jwks: keySet, jwksUri: values['jwks-uri'] },
          undefined,
          { allowInsecureJwksUri: config.developmentCredentials },
        );
        if (!(await insertClient(handle.db, input, now))) throw new Error(`Client ${input.id} already exists`);
        await audited(handle.db, 'create', input.id, now);
        process.stdout.write(`${JSON.stringify(await findClient(handle.db, input.id), null, 2)}\n`);
        break;
      }
      case 'list':
        for (const c of await listClients(handle.db)) {
          process.stdout.write(`${c.id}\t${c.role}\t${c.organization ?? '-'}\t${c.active ? 'active' : 'inactive'}\t${c.scopes.join(' ')}\n`);
        }
        break;
      case 'show': {
        const c = await findClient(handle.db, values.id ?? '');
        if (!c) throw new Error(`No client ${values.id}`);
        process.stdout.write(`${JSON.stringify(c, null, 2)}\n`);
        break;
      }
      case 'activate':
      case 'deactivate':
        if (!(await setClientActive(handle.db, values.id ?? '', command === 'activate', now))) throw new Error(`No client ${values.id}`);
        await audited(handle.db, 'update', values.id ?? '', now);
        break;
      default:
        throw new Error('usage: npm run client -- add|list|show|activate|deactivate [--id ...]');
    }
  } finally {
    await handle.close();
  }
}

main().catch((err) => {
  process.stderr.write(`${isFhirError(err) ? err.message : ((err as Error).message ?? String(err))}\n`);
  process.exit(1);
});

// The local tools (`npm run token`, `client`, `seed`) find a server started on any port through the
// DATA_DIR/server.json it writes (issue 14, item 1), and development tokens live longer (item 2).
import { writeFileSync } from 'node:fs';
import { decodeJwt } from 'jose';
import { Client } from 'pg';
import { buildKeyPair } from '../support/tokens';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { ensureBuilt, runCli, startServerProcess, type ServerProcess } from '../support/cli';

beforeAll(() => ensureBuilt(), 180_000);

async function searchPatients(server: ServerProcess, token: string): Promise<number> {
  const res = await fetch(`${server.url}/Patient?_count=1`, { headers: { authorization: `Bearer ${token}` } });
  await res.body?.cancel();
  return res.status;
}

describe('embedded database, server on a port the tools are not told', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServerProcess({ PORT: '0' });
  }, 180_000);
  afterAll(async () => {
    await server?.stop();
  }, 60_000);

  test('server.json names where it listens and the issuer it checks', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.url).not.toBe('http://127.0.0.1:8080');
  });

  test('npm run token (only DATA_DIR set) mints a token the server accepts, living 8 hours', async () => {
    const out = await runCli('token', ['--role', 'hospital'], { DATA_DIR: server.dataDir });
    expect(out.stderr).toBe('');
    expect(out.status).toBe(0);
    const token = out.stdout.trim();
    expect(await searchPatients(server, token)).toBe(200);
    const claims = decodeJwt(token);
    expect(claims.iss).toBe(server.url);
    expect(claims.exp! - claims.iat!).toBe(8 * 3600);
  }, 60_000);

  test('a token for another organization registers its development client through the server', async () => {
    const out = await runCli('token', ['--role', 'pharmacy', '--organization', '2450000221'], { DATA_DIR: server.dataDir });
    expect(out.status).toBe(0);
    expect(decodeJwt(out.stdout.trim()).organization).toBe('2450000221');
  }, 60_000);

  test('DEVELOPMENT_TOKEN_TTL_SECONDS sets the development lifetime', async () => {
    // The lifetime is the server's (it issues the token): a second server with its own setting.
    const other = await startServerProcess({ DEVELOPMENT_TOKEN_TTL_SECONDS: '600' });
    try {
      const out = await runCli('token', ['--role', 'analyst'], { DATA_DIR: other.dataDir });
      const claims = decodeJwt(out.stdout.trim());
      expect(claims.exp! - claims.iat!).toBe(600);
    } finally {
      await other.stop();
    }
  }, 180_000);

  test('npm run client and npm run seed see the running server and refuse to open its database', async () => {
    const client = await runCli('client', ['list'], { DATA_DIR: server.dataDir });
    expect(client.status).toBe(1);
    expect(client.stderr).toContain('The server is running on the embedded database');
    const seed = await runCli('seed-demo', [], { DATA_DIR: server.dataDir });
    expect(seed.stderr).not.toContain('Error');
    expect(seed.status).toBe(2);
    expect(seed.stderr).toContain(`A server answers at ${server.url}`);
  }, 60_000);
});

describe('PostgreSQL, server on a port the tools are not told', () => {
  let database: TestDatabase;
  let server: ServerProcess;
  beforeAll(async () => {
    database = await createTestDatabase();
    server = await startServerProcess({ DATABASE_URL: database.url, WORKERS: '1' });
  }, 180_000);
  afterAll(async () => {
    await server?.stop();
    await database?.drop();
  }, 60_000);

  test('npm run token signs in-process for the issuer in server.json', async () => {
    const out = await runCli('token', ['--role', 'registry-admin'], { DATA_DIR: server.dataDir, DATABASE_URL: database.url });
    expect(out.status).toBe(0);
    expect(decodeJwt(out.stdout.trim()).iss).toBe(server.url);
    expect(await searchPatients(server, out.stdout.trim())).toBe(200);
  }, 60_000);

  test('a token minted for another address is refused, naming the issuer this server expects', async () => {
    // No server.json in this DATA_DIR: the tool signs for the address its own PORT names.
    const elsewhere = await runCli('token', ['--role', 'hospital'], { DATA_DIR: `${server.dataDir}/elsewhere`, DATABASE_URL: database.url, PORT: '1' });
    expect(elsewhere.status).toBe(0);
    const res = await fetch(`${server.url}/Patient`, { headers: { authorization: `Bearer ${elsewhere.stdout.trim()}` } });
    const body = (await res.json()) as { issue: { diagnostics: string }[] };
    expect(res.status).toBe(401);
    expect(body.issue[0].diagnostics).toContain(`Authentication failed: unknown token issuer http://127.0.0.1:1; this server's tokens are issued by ${server.url}`);
  }, 60_000);

  test('npm run client changes a client with database access, and the change is in the audit trail', async () => {
    const { publicJwk } = await buildKeyPair('ES384');
    const file = `${server.dataDir}/cli-key.json`;
    writeFileSync(file, JSON.stringify(publicJwk));
    const env = { DATA_DIR: server.dataDir, DATABASE_URL: database.url };
    expect((await runCli('client', ['add', '--id', 'cli-pharmacy', '--role', 'pharmacy', '--organization', 'PH9', '--scopes', 'system/MedicationRequest.rs', '--jwks-file', file], env)).status).toBe(0);
    expect((await runCli('client', ['deactivate', '--id', 'cli-pharmacy'], env)).status).toBe(0);
    const c = new Client({ connectionString: database.url });
    await c.connect();
    try {
      const { rows } = await c.query(`select action, client_id from audit_event where entity_type = 'client' and entity_id = 'cli-pharmacy' order by recorded`);
      expect(rows).toEqual([{ action: 'C', client_id: 'operator-cli' }, { action: 'U', client_id: 'operator-cli' }]);
    } finally {
      await c.end();
    }
  }, 60_000);
});

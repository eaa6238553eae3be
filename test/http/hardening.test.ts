// Security headers, CORS allow-list, body and nesting limits, and what is reachable without a token.
import { buildObservation } from '../support/fixtures';
import { startTestServer, type TestServer } from '../support/server';

const ALLOWED_ORIGIN = 'https://portal.health.example';
let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ env: { CORS_ORIGINS: `${ALLOWED_ORIGIN},https://other.example`, BODY_LIMIT: '256kb' } });
}, 180_000);
afterAll(async () => {
  await s?.close();
});

test('API answers carry strict security headers; the docs page gets a policy it can run under', async () => {
  const res = await s.fetch('/metadata', { anonymous: true });
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  expect(res.headers.get('content-security-policy')).toBe("default-src 'none';frame-ancestors 'none'");
  expect(res.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
  expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
  expect(res.headers.get('x-powered-by')).toBeNull();
  const docs = await fetch(`${s.url}/docs/`);
  expect(docs.status).toBe(200);
  expect(docs.headers.get('content-security-policy')).toContain("script-src 'self'");
});

test('CORS: listed origins get headers and preflights; others get none', async () => {
  const ok = await s.fetch('/metadata', { anonymous: true, headers: { origin: ALLOWED_ORIGIN } });
  expect(ok.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
  expect(ok.headers.get('access-control-expose-headers')).toContain('ETag');
  expect(ok.headers.get('vary')).toContain('Origin');
  const other = await s.fetch('/metadata', { anonymous: true, headers: { origin: 'https://evil.example' } });
  expect(other.headers.get('access-control-allow-origin')).toBeNull();

  const preflight = await fetch(`${s.url}/Patient`, { method: 'OPTIONS', headers: { origin: ALLOWED_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' } });
  expect(preflight.status).toBe(204);
  expect(preflight.headers.get('access-control-allow-headers')).toContain('Authorization');
  const refused = await fetch(`${s.url}/Patient`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
  expect(refused.status).toBe(403);
  expect(refused.headers.get('access-control-allow-origin')).toBeNull();
});

test('JSON nested beyond the limit is a 400 naming the position, not a crash', async () => {
  const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
  const res = await s.fetch('/Observation', { method: 'POST', json: deep });
  expect(res.status).toBe(400);
  expect(res.body.issue[0].diagnostics).toMatch(/nested deeper than 128 levels at line 1, column 129/);
  // Brackets inside strings do not count.
  const ok = await s.fetch('/Observation', { method: 'POST', json: buildObservation({ note: [{ text: '['.repeat(5000) }] }) });
  expect(ok.status).toBe(201);
  // A Bundle at realistic depth is fine.
  const bundle = await s.fetch('/', { method: 'POST', json: { resourceType: 'Bundle', type: 'batch', entry: [{ resource: buildObservation({ component: [{ code: { coding: [{ code: 'x' }] }, valueQuantity: { value: 1 } }] }), request: { method: 'POST', url: 'Observation' } }] } });
  expect(bundle.status).toBe(200);
});

test('bodies over the configured limit are 413, and the server keeps serving', async () => {
  const big = JSON.stringify(buildObservation({ note: [{ text: 'x'.repeat(300 * 1024) }] }));
  const res = await s.fetch('/Observation', { method: 'POST', json: big });
  expect(res.status).toBe(413);
  expect(res.body.resourceType).toBe('OperationOutcome');
  expect((await s.fetch('/metadata', { anonymous: true })).status).toBe(200);
});

test('without a token only metadata, discovery, health and docs answer', async () => {
  for (const p of ['/metadata', '/.well-known/smart-configuration', '/.well-known/jwks.json', '/healthz', '/readyz', '/openapi.yaml']) {
    expect([p, (await s.fetch(p, { anonymous: true })).status]).toEqual([p, 200]);
  }
  for (const [method, p] of [
    ['GET', '/Patient'],
    ['GET', '/Patient/x'],
    ['POST', '/'],
    ['GET', '/_history'],
    ['GET', '/AuditEvent'],
    ['POST', '/MedicationRequest/$prescribe'],
    ['GET', '/_async/some-job'],
  ]) {
    const res = await s.fetch(p, { method, anonymous: true, ...(method === 'POST' ? { json: { resourceType: 'Bundle', type: 'batch' } } : {}) });
    expect([method, p, res.status]).toEqual([method, p, 401]);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
  }
});

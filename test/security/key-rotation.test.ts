// Signing keys rotate; old public keys stay published until the tokens they signed have expired.
import { createAuthService } from '../../src/auth/auth-service';
import { createTestClient, mintClientAssertion, tokenForm, type TestClient } from '../support/tokens';
import { startSecurityHarness, type SecurityHarness } from './setup';

let h: SecurityHarness;
let client: TestClient;
beforeAll(async () => {
  h = await startSecurityHarness({ SIGNING_KEY_ROTATION_SECONDS: '3600', TOKEN_TTL_SECONDS: '900' });
  client = await createTestClient(h.handle.db, { role: 'hospital' });
}, 180_000);
afterAll(() => h.close());

async function token(): Promise<{ token: string; kid: string }> {
  const out = await h.auth.handleTokenRequest(tokenForm(await mintClientAssertion(client, h.auth.tokenUrl(), { now: h.clock.now() }), 'system/Observation.rs'));
  expect(out.status).toBe(200);
  const t = out.body.access_token as string;
  return { token: t, kid: JSON.parse(Buffer.from(t.split('.')[0], 'base64url').toString()).kid };
}
const kids = async () => (await h.auth.jwks()).keys.map((k) => k.kid);

test('rotation keeps the old key while its tokens may be valid, then drops it', async () => {
  const first = await token();
  expect(await kids()).toEqual([first.kid]);

  h.clock.advance(3600 - 10); // just before rotation: the same key
  const nearEnd = await token();
  expect(nearEnd.kid).toBe(first.kid);

  h.clock.advance(20); // rotated: a new key signs, both are published
  const second = await token();
  expect(second.kid).not.toBe(first.kid);
  expect(await kids()).toEqual([second.kid, first.kid]);
  // the token signed just before rotation is still accepted
  expect(await h.auth.authenticate(`Bearer ${nearEnd.token}`)).toMatchObject({ clientId: client.client.id });

  // another process (own cache) sees the same keys and verifies both tokens
  const peer = createAuthService({ db: h.handle.db, config: h.config, clock: h.clock });
  expect(await peer.authenticate(`Bearer ${second.token}`)).toMatchObject({ clientId: client.client.id });
  expect(await peer.authenticate(`Bearer ${nearEnd.token}`)).toMatchObject({ clientId: client.client.id });

  // past max token lifetime + margin after the old key's last use: no longer published
  h.clock.advance(900 + 130);
  const fresh = createAuthService({ db: h.handle.db, config: h.config, clock: h.clock });
  expect(await fresh.jwks().then((j) => j.keys.map((k) => k.kid))).toEqual([second.kid]);
});

test('concurrent first use makes one key', async () => {
  const h2 = await startSecurityHarness();
  try {
    const services = Array.from({ length: 5 }, () => createAuthService({ db: h2.handle.db, config: h2.config, clock: h2.clock }));
    const sets = await Promise.all(services.map((s) => s.jwks()));
    expect(new Set(sets.flatMap((s) => s.keys.map((k) => k.kid))).size).toBe(1);
  } finally {
    await h2.close();
  }
});

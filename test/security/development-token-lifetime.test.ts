// Development clients (`npm run token`) get long-lived tokens; production keeps its limits (issue 14, item 2).
import { decodeJwt } from 'jose';
import { createTestClient, obtainAccessToken } from '../support/tokens';
import { startSecurityHarness, type SecurityHarness } from './setup';

const lifetime = (token: string): number => {
  const c = decodeJwt(token);
  return c.exp! - c.iat!;
};

describe('with development credentials', () => {
  let h: SecurityHarness;
  beforeAll(async () => {
    h = await startSecurityHarness({ DEVELOPMENT_CREDENTIALS: 'on', DEVELOPMENT_TOKEN_TTL_SECONDS: '7200' });
  }, 180_000);
  afterAll(async () => h?.close());

  test('a development client gets DEVELOPMENT_TOKEN_TTL_SECONDS, and the server accepts that token', async () => {
    const dev = await createTestClient(h.handle.db, { id: 'dev-hospital', role: 'hospital' });
    const token = await obtainAccessToken(h.auth, dev);
    expect(lifetime(token)).toBe(7200);
    // Still valid an hour later: the 15-minute cap of other tokens does not apply to it.
    h.clock.advance(3600);
    expect((await h.auth.authenticate(`Bearer ${token}`)).clientId).toBe('dev-hospital');
    h.clock.set(new Date());
  });

  test('any other client keeps TOKEN_TTL_SECONDS', async () => {
    const other = await createTestClient(h.handle.db, { id: 'pharmacy-one', role: 'pharmacy' });
    expect(lifetime(await obtainAccessToken(h.auth, other))).toBe(300);
  });
});

describe('in production', () => {
  let h: SecurityHarness;
  beforeAll(async () => {
    h = await startSecurityHarness({ NODE_ENV: 'production', DEVELOPMENT_CREDENTIALS: 'on', DEVELOPMENT_TOKEN_TTL_SECONDS: '7200' });
  }, 180_000);
  afterAll(async () => h?.close());

  test('a client named dev-* gets nothing longer than TOKEN_TTL_SECONDS', async () => {
    expect(h.config.developmentCredentials).toBe(false);
    const dev = await createTestClient(h.handle.db, { id: 'dev-hospital', role: 'hospital' });
    expect(lifetime(await obtainAccessToken(h.auth, dev))).toBe(300);
  });
});

import { ConfigError, loadConfig } from '../../src/config/config';

test('defaults', () => {
  const c = loadConfig({});
  expect(c.port).toBe(8080);
  expect(c.host).toBe('127.0.0.1');
  expect(c.databaseUrl).toBeUndefined();
  expect(c.bodyLimitBytes).toBe(50 * 1024 * 1024);
});

test('every bad value is reported at once', () => {
  try {
    loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://x', BODY_LIMIT: 'lots', WORKERS: '0', AUDIT_READ_COMMIT: 'sometimes' });
    throw new Error('accepted');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.join('\n');
    for (const name of ['PORT', 'LOG_LEVEL', 'DATABASE_URL', 'BODY_LIMIT', 'WORKERS', 'AUDIT_READ_COMMIT']) expect(problems).toContain(name);
  }
});

test('sizes with units', () => {
  expect(loadConfig({ BODY_LIMIT: '2mb' }).bodyLimitBytes).toBe(2 * 1024 * 1024);
});

describe('NATIONAL_PROFILES=auto follows the registry mode in force (README: "on when REGISTRY_MODE=strict")', () => {
  test('production: REGISTRY_MODE defaults to strict, so the profiles are enforced', () => {
    const c = loadConfig({ NODE_ENV: 'production' });
    expect(c.registryMode).toBe('strict');
    expect(c.nationalProfiles).toBe('enforce');
  });
  test('production with REGISTRY_MODE=open: claimed profiles only', () => {
    expect(loadConfig({ NODE_ENV: 'production', REGISTRY_MODE: 'open' }).nationalProfiles).toBe('claimed');
  });
  test('development: registry checks off, claimed profiles; REGISTRY_MODE=strict enforces them', () => {
    expect(loadConfig({}).nationalProfiles).toBe('claimed');
    expect(loadConfig({ REGISTRY_MODE: 'strict' }).nationalProfiles).toBe('enforce');
  });
  test('an explicit value wins', () => {
    expect(loadConfig({ NODE_ENV: 'production', NATIONAL_PROFILES: 'claimed' }).nationalProfiles).toBe('claimed');
    expect(loadConfig({ NATIONAL_PROFILES: 'on' }).nationalProfiles).toBe('enforce');
  });
});

test('development token lifetime: 8 hours by default, at most a day', () => {
  expect(loadConfig({}).developmentTokenTtlSeconds).toBe(8 * 3600);
  expect(loadConfig({ DEVELOPMENT_TOKEN_TTL_SECONDS: '600' }).developmentTokenTtlSeconds).toBe(600);
  expect(() => loadConfig({ DEVELOPMENT_TOKEN_TTL_SECONDS: String(2 * 86400) })).toThrow(/DEVELOPMENT_TOKEN_TTL_SECONDS/);
});

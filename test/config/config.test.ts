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

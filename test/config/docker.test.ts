// docker-compose.yml (PostgreSQL + the server in development mode with demo data) beside the production
// image (issue 14, item 8). No Docker daemon here: the files are checked against what the server reads.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/config';

const root = path.resolve(__dirname, '../..');
const compose = parse(readFileSync(path.join(root, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, { image?: string; build?: string; environment: Record<string, string>; ports?: string[]; depends_on?: Record<string, { condition: string }> }>;
};
const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8');
/** The runtime stage's environment (ENV line), as the container starts with it. */
const imageEnv = Object.fromEntries([...(/^FROM \S+ AS runtime\nENV (.+)$/m.exec(dockerfile)?.[1] ?? '').matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1], m[2]]));

test('compose: PostgreSQL, and the server built from this Dockerfile, started once the database is healthy', () => {
  expect(Object.keys(compose.services).sort()).toEqual(['opennhis', 'postgres']);
  expect(compose.services.postgres.image).toMatch(/^postgres:1[5-9]/);
  expect(compose.services.opennhis.build).toBe('.');
  expect(compose.services.opennhis.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
  expect(compose.services.opennhis.ports).toEqual([`127.0.0.1:8080:${imageEnv.PORT}`]);
});

test('compose: its DATABASE_URL names the postgres service with the credentials it is created with', () => {
  const db = compose.services.postgres.environment;
  const url = new URL(compose.services.opennhis.environment.DATABASE_URL);
  expect({ user: url.username, password: url.password, host: url.hostname, database: url.pathname.slice(1) }).toEqual({
    user: db.POSTGRES_USER,
    password: db.POSTGRES_PASSWORD,
    host: 'postgres',
    database: db.POSTGRES_DB,
  });
});

test('compose: the image in development mode is valid configuration with development clients and the demo data', () => {
  const env = { ...imageEnv, ...compose.services.opennhis.environment };
  const config = loadConfig(env);
  expect(config.developmentCredentials).toBe(true);
  expect(config.seedDemo).toBe('on');
  expect(config.workers).toBe(1);
  expect(config.host).toBe('0.0.0.0');
  expect(config.baseUrl).toBe('http://127.0.0.1:8080');
});

test('the production image as it is: no development clients, no demo data, strict registry, enforced profiles', () => {
  const config = loadConfig(imageEnv);
  expect(imageEnv.NODE_ENV).toBe('production');
  expect({ dev: config.developmentCredentials, seed: config.seedDemo, registry: config.registryMode, profiles: config.nationalProfiles }).toEqual({
    dev: false,
    seed: 'off',
    registry: 'strict',
    profiles: 'enforce',
  });
});

test('the runtime image holds what the server reads at start: dist, fhir-profiles and both OpenAPI documents', () => {
  const runtime = dockerfile.slice(dockerfile.indexOf('AS runtime'));
  expect(runtime).toContain('COPY --from=build /app/dist ./dist');
  expect(runtime).toContain('COPY fhir-profiles ./fhir-profiles');
  expect(runtime).toContain('COPY openapi.yaml openapi-national.yaml ./');
});

import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { openDatabase, type DbHandle } from '../../../src/repository/db';
import { migrateToLatest } from '../../../src/repository/migrate';
import { insertFirstVersion, replaceVersion, readCurrent } from '../../../src/repository/resources';
import { inTransaction } from '../../../src/repository/transaction';
import { loadConfig } from '../../../src/config/config';
import type { FhirContext } from '../../../src/fhir/context';
import type { FhirRequest, FhirResponse } from '../../../src/fhir/request';
import { searchCompartment, searchSystem, searchType } from '../../../src/fhir/search/search-handlers';
import { deleteIndexRows, replaceIndexRows, replaceIndexRowsMany } from '../../../src/repository/search-index';
import type { Db } from '../../../src/repository/db';
import type { Tx } from '../../../src/repository/transaction';
import { stringifyJson } from '../../../src/shared/json';
import { SERVER_SCOPE } from '../../../src/store/access/access-scope';
import { extractIndexRows } from '../../../src/store/search/extract-index';
import { matchResourceIds } from '../../../src/store/search/search-resources';

type Resource = { resourceType: string; id: string } & Record<string, unknown>;

/** The search functions these tests exercise, over one database with the server's own scope (no caller restrictions). */
export interface SearchEngine {
  indexResource(tx: Tx, resource: Resource): Promise<void>;
  indexResources(tx: Tx, resources: Resource[]): Promise<void>;
  removeFromIndex(tx: Tx, resourceType: string, id: string): Promise<void>;
  findIds(executor: Db | Tx, resourceType: string, criteria: URLSearchParams, limit: number): Promise<string[]>;
  searchType(req: FhirRequest, resourceType: string): Promise<FhirResponse>;
  searchSystem(req: FhirRequest): Promise<FhirResponse>;
  searchCompartment(req: FhirRequest, compartmentType: string, compartmentId: string, resourceType: string): Promise<FhirResponse>;
}

function createEngine(db: Db, clock: { now: () => Date }): SearchEngine {
  const ctx = { db, clock, config: loadConfig({}) } as unknown as FhirContext;
  const scoped = (req: FhirRequest): FhirRequest => ({ ...req, scope: SERVER_SCOPE });
  return {
    indexResource: (tx, r) => replaceIndexRows(tx, r.resourceType, r.id, extractIndexRows(r)),
    indexResources: (tx, list) => replaceIndexRowsMany(tx, list.map((r) => ({ resourceType: r.resourceType, id: r.id, rows: extractIndexRows(r) }))),
    removeFromIndex: (tx, type, id) => deleteIndexRows(tx, type, id),
    findIds: (executor, type, criteria, limit) => matchResourceIds(executor, SERVER_SCOPE, type, criteria, limit),
    searchType: (req, type) => searchType(ctx, { ...scoped(req), params: { type } }),
    searchSystem: (req) => searchSystem(ctx, scoped(req)),
    searchCompartment: (req, compartmentType, id, type) => searchCompartment(ctx, { ...scoped(req), params: { type: compartmentType, id, compartmentType: type } }),
  };
}

/**
 * A fresh database per test file (PostgreSQL, or PGlite in memory), the search
 * engine over it, and small helpers to store resources and run searches.
 */
export const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const BASE = 'http://fhir.test/r4';

export interface SearchFixture {
  handle: DbHandle;
  engine: SearchEngine;
  put(resource: Record<string, unknown>, lastUpdated?: Date): Promise<void>;
  remove(resourceType: string, id: string): Promise<void>;
  search(type: string, query: string | [string, string][], headers?: Record<string, string>): Promise<Bundle>;
  ids(type: string, query: string | [string, string][], headers?: Record<string, string>): Promise<string[]>;
  close(): Promise<void>;
}

export interface Bundle {
  resourceType: 'Bundle';
  total?: number;
  link: { relation: string; url: string }[];
  entry?: { fullUrl?: string; resource: Record<string, any>; search: { mode: string } }[];
}

export function buildRequest(query: string | [string, string][] | URLSearchParams, headers: Record<string, string> = {}): FhirRequest {
  return {
    method: 'GET',
    params: {},
    query: query instanceof URLSearchParams ? query : new URLSearchParams(query),
    headers,
    baseUrl: BASE,
    requestId: 'test',
  };
}

export async function openFixture(kind: 'postgres' | 'pglite' = 'postgres'): Promise<SearchFixture> {
  let dbName: string | undefined;
  let handle: DbHandle;
  if (kind === 'postgres') {
    dbName = `nhis_t_${randomBytes(6).toString('hex')}`;
    const admin = new Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`create database ${dbName}`);
    await admin.end();
    const url = new URL(ADMIN_URL);
    url.pathname = `/${dbName}`;
    handle = await openDatabase({ databaseUrl: url.toString(), poolSize: 4 });
  } else {
    handle = await openDatabase({});
  }
  await migrateToLatest(handle.db);
  const engine = createEngine(handle.db, { now: () => new Date('2024-06-01T00:00:00Z') });
  let tick = Date.parse('2024-01-01T00:00:00Z');

  const fixture: SearchFixture = {
    handle,
    engine,
    async put(resource, lastUpdated) {
      const r = resource as { resourceType: string; id: string };
      const when = lastUpdated ?? new Date((tick += 1000));
      await inTransaction(handle.db, async (tx) => {
        const current = await readCurrent(tx, r.resourceType, r.id);
        const versionId = (current?.versionId ?? 0) + 1;
        const stamped = { ...resource, meta: { ...((resource.meta as object) ?? {}), versionId: String(versionId), lastUpdated: when.toISOString() } };
        const input = { resourceType: r.resourceType, id: r.id, versionId, lastUpdated: when, deleted: false, content: stringifyJson(stamped), method: current ? ('update' as const) : ('create' as const) };
        const ok = current ? await replaceVersion(tx, input, current.versionId) : await insertFirstVersion(tx, input);
        if (!ok) throw new Error('write failed');
        await engine.indexResource(tx, stamped as never);
      });
    },
    async remove(resourceType, id) {
      await inTransaction(handle.db, async (tx) => {
        const current = await readCurrent(tx, resourceType, id);
        if (!current) return;
        await replaceVersion(tx, { resourceType, id, versionId: current.versionId + 1, lastUpdated: new Date((tick += 1000)), deleted: true, content: current.content ?? '{}', method: 'delete' }, current.versionId);
        await engine.removeFromIndex(tx, resourceType, id);
      });
    },
    async search(type, query, headers) {
      const res = await engine.searchType(buildRequest(query, headers), type);
      expect(res.status).toBe(200);
      return res.body as Bundle;
    },
    async ids(type, query, headers) {
      const b = await fixture.search(type, query, headers);
      return (b.entry ?? []).filter((e) => e.search.mode === 'match').map((e) => e.resource.id as string).sort();
    },
    async close() {
      await handle.close();
      if (dbName) {
        const admin = new Client({ connectionString: ADMIN_URL });
        await admin.connect();
        await admin.query(`drop database if exists ${dbName} with (force)`);
        await admin.end();
      }
    },
  };
  return fixture;
}

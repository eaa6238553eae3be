import type { Logger } from 'pino';
import type { Db } from '../../repository/db';
import type { Clock } from '../../shared/clock';
import { createFullSearchEngine, type FullSearchEngine } from './search-engine';

export type { FullSearchEngine } from './search-engine';
export { extractIndexRows } from './extract-index';

/** The search engine for `app.ts` to wire; see `search-engine.ts`. */
export function createSearchEngine(deps: { db: Db; logger: Logger; clock?: Clock; maxIncluded?: number }): FullSearchEngine {
  return createFullSearchEngine(deps);
}

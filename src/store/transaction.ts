/**
 * Transactions for the layers above the store: workflows and interactions group their store
 * writes in one database transaction, and serialise work on one key until commit.
 */
export { inTransaction, type Tx } from '../repository/transaction';
export { lockKey } from '../repository/resources';
export type { Db } from '../repository/db';

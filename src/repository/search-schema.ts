/** Row types of the search index tables (migration 0002). */
interface IndexRowBase {
  resource_type: string;
  resource_id: string;
  param: string;
  /** Element ordinal tying together the components of one composite value; 0 otherwise. */
  grp: number;
}

export interface TokenIndexRow extends IndexRowBase {
  system: string | null;
  code: string | null;
  text_norm: string | null;
}
export interface StringIndexRow extends IndexRowBase {
  value: string;
  value_norm: string;
}
export interface DateIndexRow extends IndexRowBase {
  /** ISO instant or '-infinity' / 'infinity'; the range is [low, high). */
  low: string;
  high: string;
}
export interface ReferenceIndexRow extends IndexRowBase {
  target_type: string | null;
  target_id: string | null;
  url: string | null;
}
export interface NumberIndexRow extends IndexRowBase {
  /** Decimal text, stored as numeric. */
  value: string;
}
export interface QuantityIndexRow extends IndexRowBase {
  value: string;
  system: string | null;
  code: string | null;
  unit: string | null;
}
export interface UriIndexRow extends IndexRowBase {
  value: string;
}

export interface ReindexJobRow {
  id: string;
  status: string;
  resource_type: string | null;
  after_type: string | null;
  after_id: string | null;
  processed: string | number;
  total: string | number | null;
  error: string | null;
  started_at: Date | string;
  updated_at: Date | string;
  finished_at: Date | string | null;
}

export interface SearchTables {
  search_token: TokenIndexRow;
  search_string: StringIndexRow;
  search_date: DateIndexRow;
  search_reference: ReferenceIndexRow;
  search_number: NumberIndexRow;
  search_quantity: QuantityIndexRow;
  search_uri: UriIndexRow;
  search_reindex_job: ReindexJobRow;
}

export type IndexTable = 'token' | 'string' | 'date' | 'reference' | 'number' | 'quantity' | 'uri';
export const INDEX_TABLES: readonly IndexTable[] = ['token', 'string', 'date', 'reference', 'number', 'quantity', 'uri'];

/** Index rows of one resource, without the resource_type/resource_id columns. */
export interface IndexRows {
  token: Omit<TokenIndexRow, 'resource_type' | 'resource_id'>[];
  string: Omit<StringIndexRow, 'resource_type' | 'resource_id'>[];
  date: Omit<DateIndexRow, 'resource_type' | 'resource_id'>[];
  reference: Omit<ReferenceIndexRow, 'resource_type' | 'resource_id'>[];
  number: Omit<NumberIndexRow, 'resource_type' | 'resource_id'>[];
  quantity: Omit<QuantityIndexRow, 'resource_type' | 'resource_id'>[];
  uri: Omit<UriIndexRow, 'resource_type' | 'resource_id'>[];
}

export function emptyIndexRows(): IndexRows {
  return { token: [], string: [], date: [], reference: [], number: [], quantity: [], uri: [] };
}

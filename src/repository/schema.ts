import type { ColumnType, Generated } from 'kysely';

/** Table types for kysely; one interface per table, named for its rows. */
export interface ResourceRow {
  resource_type: string;
  id: string;
  version_id: number;
  last_updated: ColumnType<Date, Date | string, Date | string>;
  deleted: boolean;
  /** The resource as served, id and meta included; text keeps decimals exact. */
  content: string;
}

export interface ResourceHistoryRow {
  resource_type: string;
  id: string;
  version_id: number;
  last_updated: ColumnType<Date, Date | string, Date | string>;
  deleted: boolean;
  /** Null for a delete marker. */
  content: string | null;
  /** The interaction that made this version: create, update or delete. */
  method: string;
  seq: Generated<string>;
}

export interface PatientNationalIdRow {
  system: string;
  value: string;
  patient_id: string;
}

export interface Database {
  resource: ResourceRow;
  resource_history: ResourceHistoryRow;
  patient_national_id: PatientNationalIdRow;
}

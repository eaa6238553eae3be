import { emptyIndexRows, type IndexRows } from '../../repository/search-schema';
import { isLosslessNumber, type LosslessNumber } from '../../shared/json';
import { parseDateRange, toSqlInstant } from './date-range';
import { searchParamsOf, type FhirPathNode, type ParamType, type SearchParamDef } from './definitions';
import { clipText, foldText, MAX_SYSTEM_BYTES, MAX_VALUE_BYTES, sanitizeText } from './text-fold';

/**
 * Turns a resource into search index rows, one generic mechanism for every
 * parameter of its type: evaluate the parameter's FHIRPath, then map each value
 * by its FHIR data type onto the row shape of the parameter's type.
 */
type Obj = Record<string, unknown>;

function str(v: unknown, max = MAX_VALUE_BYTES): string | null {
  if (typeof v !== 'string' || v === '') return null;
  return clipText(sanitizeText(v), max);
}

function decimalText(v: unknown): string | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (isLosslessNumber(v)) return (v as LosslessNumber).value;
  // fhirpath wraps decimals it evaluated itself (FP_Decimal) with their source text.
  const o = v as { asStr?: unknown; value?: unknown } | null;
  if (o && typeof o === 'object' && typeof o.value === 'number' && Number.isFinite(o.value)) return String(o.value);
  return undefined;
}

/** LosslessNumbers become plain numbers for FHIRPath; the index keeps decimals as text. */
function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain);
  if (isLosslessNumber(value)) return Number((value as LosslessNumber).value);
  if (value && typeof value === 'object') {
    const out: Obj = {};
    for (const [k, v] of Object.entries(value as Obj)) out[k] = plain(v);
    return out;
  }
  return value;
}

function asObj(v: unknown): Obj | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;
}
function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : v === undefined || v === null ? [] : [v];
}

const QUANTITY_TYPES = new Set(['Quantity', 'Age', 'Duration', 'Distance', 'Count', 'SimpleQuantity', 'MoneyQuantity']);

/** Parses `Type/id`, `Type/id/_history/n` or an absolute URL ending in one. */
export function parseReferenceText(ref: string): { type: string; id: string } | undefined {
  const m = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(ref);
  return m ? { type: m[1], id: m[2] } : undefined;
}

/**
 * Small memo tables for pure functions of a value's text that the same values repeat through
 * (the dates and code displays of one Bundle): emptied when full, so bounded.
 */
const MEMO_LIMIT = 4096;
function memo<T>(table: Map<string, T>, key: string, compute: (key: string) => T): T {
  let value = table.get(key);
  if (value === undefined && !table.has(key)) {
    value = compute(key);
    if (table.size >= MEMO_LIMIT) table.clear();
    table.set(key, value);
  }
  return value as T;
}

/** A date's range as the SQL instants stored in search_date; null when it is not a date. */
const sqlRanges = new Map<string, { low: string; high: string } | null>();
function sqlRangeOf(text: string): { low: string; high: string } | null {
  return memo(sqlRanges, text, (t) => {
    const r = parseDateRange(t);
    return r ? { low: toSqlInstant(r.low), high: toSqlInstant(r.high) } : null;
  });
}

const folded = new Map<string, string>();
function fold(text: string): string {
  return memo(folded, text, foldText);
}

function addValue(rows: IndexRows, param: string, grp: number, type: ParamType, node: FhirPathNode): void {
  const dt = node.fhirNodeDataType ?? '';
  const data = node.data;
  switch (type) {
    case 'token': {
      const o = asObj(data);
      if (dt === 'CodeableConcept' && o) {
        const text = str(o.text, 2000);
        for (const c of asArray(o.coding)) {
          const co = asObj(c);
          if (!co) continue;
          const disp = str(co.display, 2000);
          rows.token.push({ param, grp, system: str(co.system, MAX_SYSTEM_BYTES), code: str(co.code), text_norm: fold(disp ?? text ?? '') || null });
        }
        if (text) rows.token.push({ param, grp, system: null, code: null, text_norm: fold(text) });
      } else if (dt === 'Coding' && o) {
        rows.token.push({ param, grp, system: str(o.system, MAX_SYSTEM_BYTES), code: str(o.code), text_norm: fold(str(o.display, 2000) ?? '') || null });
      } else if (dt === 'Identifier' && o) {
        const value = str(o.value);
        const type = asObj(o.type);
        const typeText = str(type?.text, 2000);
        rows.token.push({ param, grp, system: str(o.system, MAX_SYSTEM_BYTES), code: value, text_norm: typeText ? fold(typeText) : null });
        if (type && value) {
          for (const c of asArray(type.coding)) {
            const co = asObj(c);
            const code = str(co?.code);
            if (!co || !code) continue;
            rows.token.push({ param: `${param}:of-type`, grp, system: str(co.system, MAX_SYSTEM_BYTES), code: clipText(`${code}|${value}`, MAX_VALUE_BYTES), text_norm: null });
          }
        }
      } else if (dt === 'ContactPoint' && o) {
        rows.token.push({ param, grp, system: str(o.system, MAX_SYSTEM_BYTES), code: str(o.value), text_norm: null });
      } else if (dt === 'Reference' && o) {
        const idf = asObj(o.identifier);
        if (idf) rows.token.push({ param, grp, system: str(idf.system, MAX_SYSTEM_BYTES), code: str(idf.value), text_norm: null });
      } else if (typeof data === 'boolean') {
        rows.token.push({ param, grp, system: null, code: String(data), text_norm: null });
      } else if (typeof data === 'string') {
        rows.token.push({ param, grp, system: null, code: str(data), text_norm: null });
      }
      return;
    }
    case 'string': {
      const push = (v: unknown) => {
        const s = str(v, 4000);
        if (s) rows.string.push({ param, grp, value: s, value_norm: clipText(fold(s), MAX_VALUE_BYTES) });
      };
      const o = asObj(data);
      if (typeof data === 'string') push(data);
      else if (dt === 'HumanName' && o) {
        push(o.text);
        push(o.family);
        for (const k of ['given', 'prefix', 'suffix']) asArray(o[k]).forEach(push);
      } else if (dt === 'Address' && o) {
        push(o.text);
        asArray(o.line).forEach(push);
        for (const k of ['city', 'district', 'state', 'postalCode', 'country']) push(o[k]);
      } else if (o) {
        for (const v of Object.values(o)) if (typeof v === 'string') push(v);
      }
      return;
    }
    case 'date': {
      const add = (lowText: unknown, highText: unknown) => {
        const lo = typeof lowText === 'string' ? sqlRangeOf(lowText) : null;
        const hi = typeof highText === 'string' ? sqlRangeOf(highText) : null;
        if (!lo && !hi) return;
        rows.date.push({ param, grp, low: lo ? lo.low : '-infinity', high: hi ? hi.high : 'infinity' });
      };
      const o = asObj(data);
      if (typeof data === 'string') add(data, data);
      else if (dt === 'Period' && o) add(o.start, o.end);
      else if (dt === 'Timing' && o) {
        for (const e of asArray(o.event)) add(e, e);
        const bounds = asObj(asObj(o.repeat)?.boundsPeriod);
        if (bounds) add(bounds.start, bounds.end);
      }
      return;
    }
    case 'reference': {
      const o = asObj(data);
      if (dt === 'Reference' && o) {
        const ref = str(o.reference, 1500);
        if (ref && !ref.startsWith('#')) {
          const parsed = parseReferenceText(ref);
          const absolute = /^[a-z][a-z0-9+.-]*:/i.test(ref);
          rows.reference.push({ param, grp, target_type: parsed?.type ?? null, target_id: parsed?.id ?? null, url: absolute ? ref : null });
        }
        const idf = asObj(o.identifier);
        if (idf && (idf.value || idf.system)) {
          rows.token.push({ param: `${param}:identifier`, grp, system: str(idf.system, MAX_SYSTEM_BYTES), code: str(idf.value), text_norm: null });
        }
      } else if (typeof data === 'string') {
        const ref = str(data, 1500);
        if (ref) {
          const parsed = parseReferenceText(ref.split('|')[0]);
          rows.reference.push({ param, grp, target_type: parsed?.type ?? null, target_id: parsed?.id ?? null, url: ref });
        }
      }
      return;
    }
    case 'number': {
      const v = decimalText(data);
      if (v !== undefined) rows.number.push({ param, grp, value: v });
      return;
    }
    case 'quantity': {
      const o = asObj(data);
      if (!o) return;
      const v = decimalText(o.value);
      if (v === undefined) return;
      if (dt === 'Money') rows.quantity.push({ param, grp, value: v, system: 'urn:iso:std:iso:4217', code: str(o.currency), unit: null });
      else if (QUANTITY_TYPES.has(dt) || dt === '')
        rows.quantity.push({ param, grp, value: v, system: str(o.system, MAX_SYSTEM_BYTES), code: str(o.code), unit: str(o.unit) });
      return;
    }
    case 'uri': {
      const s = str(data, 1500);
      if (s) rows.uri.push({ param, grp, value: s });
      return;
    }
    default:
      return;
  }
}

function safeEvaluate(evaluate: ((r: unknown) => FhirPathNode[]) | undefined, target: unknown): FhirPathNode[] {
  if (!evaluate) return [];
  try {
    return evaluate(target);
  } catch {
    // A resource the expression cannot walk (e.g. an unexpected shape) simply has no value.
    return [];
  }
}

function totalRows(rows: IndexRows): number {
  return rows.token.length + rows.string.length + rows.date.length + rows.reference.length + rows.number.length + rows.quantity.length + rows.uri.length;
}

function countRows(rows: IndexRows): Record<keyof IndexRows, number> {
  return {
    token: rows.token.length,
    string: rows.string.length,
    date: rows.date.length,
    reference: rows.reference.length,
    number: rows.number.length,
    quantity: rows.quantity.length,
    uri: rows.uri.length,
  };
}

function truncateRows(rows: IndexRows, to: Record<keyof IndexRows, number>): void {
  for (const k of Object.keys(rows) as (keyof IndexRows)[]) rows[k].length = to[k];
}

function indexComposite(rows: IndexRows, def: SearchParamDef, target: unknown, useWalk: boolean, nextGrp: () => number): void {
  const components = def.components ?? [];
  for (const element of safeEvaluate(useWalk ? def.walk : def.evaluate, target)) {
    const grp = nextGrp();
    // A component without values makes the element incomplete: nothing of it is indexed.
    const values = components.map((comp) => safeEvaluate(useWalk ? comp.walk : comp.evaluate, element));
    if (values.some((v) => v.length === 0)) continue;
    const before = countRows(rows);
    let complete = true;
    components.forEach((comp, i) => {
      const start = totalRows(rows);
      for (const v of values[i]) addValue(rows, `${def.code}$${i}`, grp, comp.def.type, v);
      if (totalRows(rows) === start) complete = false;
    });
    if (!complete) truncateRows(rows, before);
  }
}

function rowKey(row: Record<string, unknown>): string {
  let key = '';
  for (const k in row) key += `${row[k] ?? '\u0001'}\u0000`;
  return key;
}

function dedupe<T extends object>(list: T[]): T[] {
  if (list.length < 2) return list;
  const seen = new Set<string>();
  return list.filter((r) => {
    const key = rowKey(r as Record<string, unknown>);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Per type, the parameters that have an expression to evaluate (cached with the definitions). */
const indexedParams = new Map<string, SearchParamDef[]>();
function indexedParamsOf(resourceType: string): SearchParamDef[] {
  let list = indexedParams.get(resourceType);
  if (!list) {
    list = [...searchParamsOf(resourceType).values()].filter((d) => d.evaluate);
    indexedParams.set(resourceType, list);
  }
  return list;
}

export interface ExtractOptions {
  /** Evaluate every parameter with fhirpath.js, never the direct walk (to compare the two). */
  fhirpathOnly?: boolean;
  /** Only these parameters (e.g. those of the Patient compartment). */
  only?: readonly string[];
}

/**
 * All index rows of `resource` (its type's parameters; `_id`/`_lastUpdated` live on `resource`).
 * Simple paths are walked directly on the JSON (`direct-path.ts`); the rest go
 * through compiled fhirpath.js on a plain-number copy made only when needed.
 */
export function extractIndexRows(resource: { resourceType: string } & Obj, opts: ExtractOptions = {}): IndexRows {
  const rows = emptyIndexRows();
  let plainCopy: unknown;
  const plainTarget = () => (plainCopy ??= plain(resource));
  let grp = 0;
  const nextGrp = () => ++grp;
  const defs = opts.only ? indexedParamsOf(resource.resourceType).filter((d) => opts.only!.includes(d.code)) : indexedParamsOf(resource.resourceType);
  for (const def of defs) {
    const useWalk = !opts.fhirpathOnly && def.walk !== undefined;
    const target = useWalk ? resource : plainTarget();
    if (def.type === 'composite') {
      indexComposite(rows, def, target, useWalk, nextGrp);
      continue;
    }
    for (const node of safeEvaluate(useWalk ? def.walk : def.evaluate, target)) addValue(rows, def.code, 0, def.type, node);
  }
  for (const k of Object.keys(rows) as (keyof IndexRows)[]) (rows[k] as unknown[]) = dedupe(rows[k] as object[]);
  return rows;
}

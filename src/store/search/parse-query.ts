import type { Filter, Match, Prefix, SortKey } from '../../repository/search-query';
import type { IndexTable } from '../../repository/search-schema';
import { parseDateRange, toSqlInstant } from './date-range';
import { isResourceType, searchParam, searchParamsOf, tableOf, targetsOf, type SearchParamDef } from './definitions';
import { parseReferenceText } from './extract-index';
import { clipText, escapeLike, foldText, MAX_SYSTEM_BYTES, MAX_VALUE_BYTES, sanitizeText } from './text-fold';

/**
 * Query string → typed search (https://hl7.org/fhir/R4/search.html). Parameter
 * names, modifiers and `_sort` keys come only from the R4 definitions; values
 * are validated here and bound as parameters later. Problems are collected per
 * parameter so the caller can answer 400 (strict) or ignore and report them.
 */
export interface SearchIssue {
  param: string;
  message: string;
  severity: 'error' | 'warning' | 'information';
}

export interface IncludeSpec {
  sourceType: string;
  /** Reference parameter code, or `*` for all. */
  param: string;
  targetType?: string;
  iterate: boolean;
}

export type TotalMode = 'none' | 'estimate' | 'accurate';
export type SummaryMode = 'true' | 'false' | 'text' | 'data' | 'count';

export interface ParsedSearch {
  filter: Filter;
  sort: SortKey[];
  /** Canonical text of the sort, bound into cursors. */
  sortText: string;
  count: number;
  total: TotalMode;
  /** `_total` as the client gave it; undefined lets the engine choose (see search-engine.ts). */
  totalRequested?: TotalMode;
  summary?: SummaryMode;
  elements?: string[];
  include: IncludeSpec[];
  revinclude: IncludeSpec[];
  cursor?: string;
  issues: SearchIssue[];
  /** The parameters that took effect, for the self link. */
  used: [string, string][];
}

export const DEFAULT_COUNT = 20;
export const MAX_COUNT = 1000;
const MAX_VALUE_LENGTH = 4096;
const MAX_OR_VALUES = 100;
const MAX_PARAMS = 64;
const MAX_CHAIN_DEPTH = 4;

const PREFIXES = new Set<Prefix>(['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap']);
const IGNORED = new Set(['_format', '_pretty']);
/** Parameters every resource type has (base Resource). */
const COMMON_PARAMS = new Set(['_id', '_lastUpdated', '_tag', '_profile', '_security', '_source']);

class ParamError extends Error {}

/** Splits on `sep` not preceded by a backslash, then unescapes `\,` `\$` `\|` `\\`. */
export function splitEscaped(s: string, sep: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && i + 1 < s.length && ',$|\\'.includes(s[i + 1])) {
      cur += c + s[i + 1];
      i++;
    } else if (c === sep) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts;
}

function unescape(s: string): string {
  return s.replace(/\\([,$|\\])/g, '$1');
}

function splitPrefix(v: string): [Prefix, string] {
  const p = v.slice(0, 2) as Prefix;
  if (PREFIXES.has(p) && v.length > 2 && /[0-9+\-.]/.test(v[2])) return [p, v.slice(2)];
  return ['eq', v];
}

function parseDateMatch(raw: string, now: number): Match {
  const [prefix, rest] = splitPrefix(raw);
  const range = parseDateRange(rest);
  if (!range) throw new ParamError(`Invalid date '${clipText(raw, 100)}' (expected e.g. 2020, 2020-05, 2020-05-17 or 2020-05-17T10:00:00+02:00, optionally prefixed by eq, ne, gt, lt, ge, le, sa, eb or ap)`);
  const d = Math.abs(now - range.low) * 0.1;
  return {
    t: 'date',
    prefix,
    low: toSqlInstant(range.low),
    high: toSqlInstant(range.high),
    approxLow: toSqlInstant(Math.max(range.low - d, -62135596800000)),
    approxHigh: toSqlInstant(range.high + d),
  };
}

const DECIMAL = /^([+-]?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/** [value - ½ unit of last digit, value + ½ unit) as decimal text, e.g. 100 → [99.5, 100.5). */
function parseNumberMatch(raw: string, what = 'number'): Extract<Match, { t: 'number' }> {
  const [prefix, rest] = splitPrefix(raw);
  const m = DECIMAL.exec(rest);
  if (!m || rest.length > 64 || Math.abs(Number(m[4] ?? 0)) > 300) {
    throw new ParamError(`Invalid ${what} '${clipText(raw, 100)}' (expected a decimal, optionally prefixed by eq, ne, gt, lt, ge, le, sa, eb or ap)`);
  }
  return { t: 'number', prefix, value: rest, low: rest, high: rest };
}

function numberMatch(raw: string, what?: string): Extract<Match, { t: 'number' }> {
  const m = parseNumberMatch(raw, what);
  const dm = DECIMAL.exec(m.value)!;
  const decimals = (dm[3] ?? '').length - Number(dm[4] ?? 0);
  const v = Number(m.value);
  const halfUnit = 5 * 10 ** (-decimals - 1);
  // Exact decimal text for the bounds: scale by the half unit's exponent to avoid float noise.
  const scale = Math.max(0, decimals + 1);
  const fmt = (x: number) => (Math.abs(x) < 1e21 && scale <= 100 ? x.toFixed(Math.min(scale, 100)) : String(x));
  return { ...m, low: fmt(v - halfUnit), high: fmt(v + halfUnit) };
}

function tokenMatch(raw: string): Match {
  const parts = splitEscaped(raw, '|');
  if (parts.length === 1) return { t: 'token', code: clipText(unescape(parts[0]), MAX_VALUE_BYTES) };
  const system = unescape(parts[0]);
  const code = unescape(parts.slice(1).join('|'));
  return {
    t: 'token',
    system: system === '' ? null : clipText(system, MAX_SYSTEM_BYTES),
    code: code === '' ? undefined : clipText(code, MAX_VALUE_BYTES),
  };
}

function quantityMatch(raw: string): Match {
  const parts = splitEscaped(raw, '|');
  if (parts.length !== 1 && parts.length !== 3) throw new ParamError(`Invalid quantity '${clipText(raw, 100)}' (expected [prefix]number or [prefix]number|system|code)`);
  const m = numberMatch(unescape(parts[0]), 'quantity');
  if (parts.length === 3) {
    const system = unescape(parts[1]);
    const code = unescape(parts[2]);
    if (system) m.system = clipText(system, MAX_SYSTEM_BYTES);
    if (code) m.code = clipText(code, MAX_VALUE_BYTES);
  }
  return m;
}

function stringMatch(raw: string, modifier: string | undefined): Match {
  const v = unescape(raw);
  if (modifier === 'exact') return { t: 'string', mode: 'exact', value: clipText(v, 4000) };
  const folded = escapeLike(clipText(foldText(v), MAX_VALUE_BYTES));
  return modifier === 'contains' ? { t: 'string', mode: 'contains', value: `%${folded}%` } : { t: 'string', mode: 'start', value: `${folded}%` };
}

function uriMatch(raw: string, modifier: string | undefined): Match {
  const v = clipText(unescape(raw), 1500);
  if (modifier === 'below') return { t: 'uri', mode: 'below', value: `${escapeLike(v)}%` };
  if (modifier === 'above') return { t: 'uri', mode: 'above', value: v };
  return { t: 'uri', mode: 'eq', value: v };
}

function referenceMatch(raw: string, def: SearchParamDef, typeModifier: string | undefined): Match {
  const v = clipText(unescape(raw), 1500);
  const allowed = targetsOf(def);
  if (/^[a-z][a-z0-9+.-]*:/i.test(v)) {
    const parsed = parseReferenceText(v);
    return parsed && isResourceType(parsed.type) ? { t: 'reference', url: v, type: parsed.type, id: parsed.id } : { t: 'reference', url: v };
  }
  if (v.includes('/')) {
    const parsed = parseReferenceText(v);
    if (!parsed || !isResourceType(parsed.type) || parsed.type.length + parsed.id.length + 1 !== v.replace(/\/_history\/[^/]+$/, '').length) {
      throw new ParamError(`Invalid reference '${clipText(raw, 100)}' (expected Type/id, an id, or an absolute URL)`);
    }
    if (typeModifier && typeModifier !== parsed.type) return { t: 'reference', id: parsed.id, type: parsed.type, types: [] };
    return { t: 'reference', type: parsed.type, id: parsed.id };
  }
  if (typeModifier) return { t: 'reference', id: v, type: typeModifier };
  return { t: 'reference', id: v, types: def.targets.length ? allowed : undefined };
}

function valueMatch(def: SearchParamDef, raw: string, modifier: string | undefined, now: number): Match {
  switch (def.type) {
    case 'token':
      if (modifier === 'text') return { t: 'token-text', pattern: `${escapeLike(clipText(foldText(unescape(raw)), 2000))}%` };
      return tokenMatch(raw);
    case 'string':
      return stringMatch(raw, modifier);
    case 'date':
      return parseDateMatch(raw, now);
    case 'number':
      return numberMatch(raw);
    case 'quantity':
      return quantityMatch(raw);
    case 'uri':
      return uriMatch(raw, modifier);
    case 'reference':
      return referenceMatch(raw, def, modifier);
    default:
      throw new ParamError(`Parameter type ${def.type} is not searchable here`);
  }
}

const MODIFIERS: Record<string, string[]> = {
  token: ['not', 'text', 'of-type'],
  string: ['exact', 'contains'],
  date: [],
  number: [],
  quantity: [],
  uri: ['below', 'above'],
  reference: ['identifier'],
  composite: [],
};

function splitValues(value: string): string[] {
  if (value.length > MAX_VALUE_LENGTH) throw new ParamError(`Value is longer than ${MAX_VALUE_LENGTH} characters`);
  const values = splitEscaped(sanitizeText(value), ',');
  if (values.length > MAX_OR_VALUES) throw new ParamError(`More than ${MAX_OR_VALUES} values`);
  if (values.some((v) => v === '')) throw new ParamError('Empty value');
  return values;
}

/** One `name=value` search criterion on `type`. */
function parseCriterion(type: string, name: string, value: string, now: number, depth: number): Filter {
  if (depth > MAX_CHAIN_DEPTH) throw new ParamError(`Chains and _has nest at most ${MAX_CHAIN_DEPTH} levels`);
  if (name.startsWith('_has:')) {
    const [, source, refParam, ...rest] = name.split(':');
    if (!source || !refParam || rest.length === 0) throw new ParamError('Expected _has:Type:reference:parameter');
    if (!isResourceType(source)) throw new ParamError(`Unknown resource type '${source}' in _has`);
    const refDef = searchParam(source, refParam);
    if (!refDef || refDef.type !== 'reference') throw new ParamError(`'${refParam}' is not a reference parameter of ${source}`);
    if (!targetsOf(refDef).includes(type)) throw new ParamError(`${source}.${refParam} cannot refer to ${type}`);
    return { kind: 'has', sourceType: source, param: refParam, filter: parseCriterion(source, rest.join(':'), value, now, depth + 1) };
  }
  const dot = name.indexOf('.');
  if (dot > 0) {
    const head = name.slice(0, dot);
    const tail = name.slice(dot + 1);
    const [code, typeMod, ...extra] = head.split(':');
    const def = searchParam(type, code);
    if (!def) throw new ParamError(`Unknown search parameter '${code}' for ${type}`);
    if (def.type !== 'reference' || extra.length) throw new ParamError(`'${head}' cannot be chained (not a reference parameter)`);
    let targets = targetsOf(def);
    if (typeMod !== undefined) {
      if (!targets.includes(typeMod)) throw new ParamError(`'${typeMod}' is not a target type of ${type}.${code}`);
      targets = [typeMod];
    }
    const nextCode = tail.split(/[.:]/)[0];
    const results: { type: string; filter: Filter }[] = [];
    let firstError: unknown;
    for (const t of targets) {
      if (!nextCode.startsWith('_has') && !searchParam(t, nextCode)) continue;
      try {
        results.push({ type: t, filter: parseCriterion(t, tail, value, now, depth + 1) });
      } catch (err) {
        firstError ??= err;
      }
    }
    if (results.length === 0) {
      throw firstError ?? new ParamError(`Unknown search parameter '${nextCode}' for the targets of ${type}.${code}`);
    }
    return { kind: 'chain', param: code, targets: results };
  }

  const [code, modifier, ...extra] = name.split(':');
  if (extra.length) throw new ParamError(`Malformed parameter name '${name}'`);
  const def = searchParam(type, code);
  if (!def) throw new ParamError(`Unknown search parameter '${code}' for ${type}`);

  if (modifier === 'missing') {
    if (value !== 'true' && value !== 'false') throw new ParamError(':missing takes true or false');
    if (code === '_id' || code === '_lastUpdated') return value === 'true' ? { kind: 'or', filters: [] } : { kind: 'and', filters: [] };
    const tables: IndexTable[] =
      def.type === 'composite'
        ? []
        : def.type === 'reference'
          ? ['reference']
          : [tableOf(def.type)!];
    if (def.type === 'composite') throw new ParamError(':missing is not supported on composite parameters');
    return { kind: 'missing', tables, param: code, missing: value === 'true' };
  }

  const values = splitValues(value);
  if (code === '_id') {
    if (modifier && modifier !== 'not') throw new ParamError(`Unknown modifier ':${modifier}' for _id`);
    return { kind: 'id', ids: values.map((v) => clipText(unescape(v), 256)), negate: modifier === 'not' };
  }
  if (code === '_lastUpdated') {
    if (modifier) throw new ParamError(`Unknown modifier ':${modifier}' for _lastUpdated`);
    return { kind: 'lastUpdated', matches: values.map((v) => parseDateMatch(v, now)) };
  }

  if (modifier !== undefined) {
    const isTypeModifier = def.type === 'reference' && targetsOf(def).includes(modifier);
    if (!isTypeModifier && !(MODIFIERS[def.type] ?? []).includes(modifier)) {
      throw new ParamError(`Unknown or unsupported modifier ':${modifier}' for ${def.type} parameter '${code}'`);
    }
  }

  if (def.type === 'composite') {
    const comps = def.components ?? [];
    return {
      kind: 'composite',
      param: code,
      values: values.map((v) => {
        const parts = splitEscaped(v, '$');
        if (parts.length !== comps.length) throw new ParamError(`Composite '${code}' expects ${comps.length} components separated by $`);
        return parts.map((p, i) => {
          const table = tableOf(comps[i].def.type);
          if (!table) throw new ParamError(`Unsupported component type in '${code}'`);
          return { table, match: valueMatch(comps[i].def, p, undefined, now) };
        });
      }),
    };
  }
  if (def.type === 'reference' && modifier === 'identifier') {
    return { kind: 'values', table: 'token', param: `${code}:identifier`, matches: values.map(tokenMatch) };
  }
  if (def.type === 'token' && modifier === 'of-type') {
    return {
      kind: 'values',
      table: 'token',
      param: `${code}:of-type`,
      matches: values.map((v) => {
        const parts = splitEscaped(v, '|');
        if (parts.length !== 3 || parts.some((p) => p === '')) throw new ParamError(':of-type expects system|code|value');
        return { t: 'token', system: clipText(unescape(parts[0]), MAX_SYSTEM_BYTES), code: clipText(`${unescape(parts[1])}|${unescape(parts[2])}`, MAX_VALUE_BYTES) };
      }),
    };
  }
  const table = tableOf(def.type);
  if (!table) throw new ParamError(`Parameter '${code}' is not supported`);
  const matches = values.map((v) => valueMatch(def, v, modifier === 'not' ? undefined : modifier, now));
  // ne on number/date/quantity is a row-level negation; :not on tokens is "no row matches".
  return { kind: 'values', table, param: code, matches, negate: modifier === 'not' };
}

function parseSort(types: string[], value: string): { sort: SortKey[]; text: string } {
  const sort: SortKey[] = [];
  for (const part of value.split(',')) {
    const desc = part.startsWith('-');
    const code = desc ? part.slice(1) : part;
    if (code === '_id') sort.push({ kind: 'column', column: 'id', desc });
    else if (code === '_lastUpdated') sort.push({ kind: 'column', column: 'last_updated', desc });
    else {
      const defs = types.map((t) => searchParam(t, code));
      const first = defs[0];
      const table = first && tableOf(first.type);
      if (!first || !table || defs.some((d) => !d || d.type !== first.type)) {
        throw new ParamError(`Cannot sort by '${clipText(code, 100)}'${types.length === 1 ? ` on ${types[0]}` : ''}`);
      }
      sort.push({ kind: 'index', table, param: code, desc });
    }
  }
  if (sort.length > 5) throw new ParamError('At most 5 sort keys');
  return { sort, text: sort.map((k) => `${k.desc ? '-' : ''}${k.kind === 'column' ? k.column : k.param}`).join(',') };
}

function parseInclude(value: string, iterate: boolean, rev: boolean): IncludeSpec {
  const [source, param, target, ...extra] = value.split(':');
  if (value === '*') return { sourceType: '*', param: '*', iterate };
  if (!source || !param || extra.length || !isResourceType(source)) {
    throw new ParamError(`Expected ${rev ? '_revinclude' : '_include'}=Type:parameter[:TargetType]`);
  }
  if (param !== '*') {
    const def = searchParam(source, param);
    if (!def || def.type !== 'reference') throw new ParamError(`'${param}' is not a reference parameter of ${source}`);
    if (target !== undefined && !targetsOf(def).includes(target)) throw new ParamError(`'${target}' is not a target of ${source}.${param}`);
  } else if (target !== undefined && !isResourceType(target)) throw new ParamError(`Unknown resource type '${target}'`);
  return { sourceType: source, param, targetType: target, iterate };
}

export interface ParseOptions {
  now: number;
  /** Ignore `_type` (the system search reads it itself). */
  systemLevel?: boolean;
}

/** The whole query for the search of `types` (one type, or several for `_type`). */
export function parseSearch(types: string[], query: URLSearchParams, opts: ParseOptions): ParsedSearch {
  const out: ParsedSearch = {
    filter: { kind: 'and', filters: [] },
    sort: [],
    sortText: '',
    count: DEFAULT_COUNT,
    total: 'accurate',
    include: [],
    revinclude: [],
    issues: [],
    used: [],
  };
  const filters: Filter[] = [];
  let n = 0;
  for (const [rawName, value] of query) {
    const name = sanitizeText(rawName);
    try {
      if (++n > MAX_PARAMS) throw new ParamError(`More than ${MAX_PARAMS} parameters`);
      if (IGNORED.has(name) || (name === '_type' && opts.systemLevel)) continue;
      if (name === '_count') {
        if (!/^\d{1,9}$/.test(value)) throw new ParamError('_count must be a non-negative integer');
        const c = Number(value);
        if (c > MAX_COUNT) out.issues.push({ param: name, severity: 'information', message: `_count ${c} exceeds the maximum; ${MAX_COUNT} used` });
        out.count = Math.min(c, MAX_COUNT);
        out.used.push([name, String(out.count)]);
      } else if (name === '_total') {
        if (value !== 'none' && value !== 'estimate' && value !== 'accurate') throw new ParamError('_total must be none, estimate or accurate');
        out.total = value;
        out.totalRequested = value;
        out.used.push([name, value]);
      } else if (name === '_summary') {
        if (!['true', 'false', 'text', 'data', 'count'].includes(value)) throw new ParamError('_summary must be true, false, text, data or count');
        out.summary = value as SummaryMode;
        out.used.push([name, value]);
      } else if (name === '_elements') {
        const els = value.split(',').map((e) => e.trim().replace(/^[A-Z][A-Za-z]+\./, ''));
        if (els.some((e) => !/^[a-z][A-Za-z0-9]*(\[x\])?$/.test(e))) throw new ParamError('_elements must list element names');
        out.elements = [...(out.elements ?? []), ...els];
        out.used.push([name, value]);
      } else if (name === '_sort') {
        const s = parseSort(types.length ? types : ['Resource'], value);
        out.sort = s.sort;
        out.sortText = s.text;
        out.used.push([name, value]);
      } else if (/^_(rev)?include(:(iterate|recurse))?$/.test(name)) {
        const rev = name.startsWith('_rev');
        const spec = parseInclude(value, name.includes(':'), rev);
        (rev ? out.revinclude : out.include).push(spec);
        out.used.push([name, value]);
      } else if (name === '_cursor') {
        out.cursor = value;
      } else {
        if (types.length === 0) {
          // All types: only the parameters every resource has.
          const code = name.split(/[:.]/)[0];
          if (!COMMON_PARAMS.has(code)) throw new ParamError(`Without _type only ${[...COMMON_PARAMS].join(', ')} can be searched`);
          filters.push(parseCriterion('Basic', name, value, opts.now, 0));
        } else if (types.length === 1) filters.push(parseCriterion(types[0], name, value, opts.now, 0));
        else {
          filters.push({
            kind: 'or',
            filters: types.map((t) => ({ kind: 'and', filters: [{ kind: 'resourceType', type: t }, parseCriterion(t, name, value, opts.now, 0)] })),
          });
        }
        out.used.push([name, value]);
      }
    } catch (err) {
      if (!(err instanceof ParamError)) throw err;
      out.issues.push({ param: clipText(name, 200), severity: 'error', message: err.message });
    }
  }
  out.filter = { kind: 'and', filters };
  return out;
}

export { searchParamsOf };

import type { CatalogObject, DriftFinding, FieldChange, FieldValue } from './model.ts';
import { driftFix, type DriftFix } from './fix.ts';
import { renderText } from './render.ts';

/**
 * Reference (what the migrations build) against live: one finding per object that differs.
 * Pure. An extra or missing object's children (a table's columns, indexes, triggers, its
 * serial's sequence; a schema's tables) are part of that one finding, not findings of their own.
 */

/** Reported only when nothing more precise differs: a trigger's full text repeats its timing, events and function. */
const FALLBACK_FIELDS: Partial<Record<CatalogObject['type'], readonly string[]>> = { trigger: ['definition'] };
/** Ordered lists: only the relative order of the entries both sides have counts. */
const ORDERED_FIELDS = new Set(['column order']);
/** Values too long, or too meaningless, to quote in a message. */
const UNQUOTED_FIELDS = new Set(['body']);

const isList = (v: FieldValue): v is readonly string[] => Array.isArray(v);

function same(a: FieldValue, b: FieldValue): boolean {
  if (isList(a) || isList(b)) {
    if (!isList(a) || !isList(b) || a.length !== b.length) return false;
    return a.every((x, i) => x === b[i]);
  }
  return a === b;
}

function quoteValue(v: FieldValue, names: Map<string, string>): string {
  if (v === null || v === undefined) return 'none';
  if (isList(v)) return v.length ? v.map((x) => renderText(x, names)).join(', ') : 'none';
  const text = renderText(v, names).replace(/\s+/g, ' ').trim();
  return text.length > 160 ? `${text.slice(0, 157)}…` : text;
}

/** `app_app gained TRUNCATE; app_readonly lost SELECT` from two sorted `grantee PRIV` lists. */
function describePrivileges(expected: readonly string[], actual: readonly string[], names: Map<string, string>): string {
  const gained = actual.filter((x) => !expected.includes(x));
  const lost = expected.filter((x) => !actual.includes(x));
  const byGrantee = (entries: string[]) => {
    const m = new Map<string, string[]>();
    for (const e of entries) {
      const space = e.lastIndexOf(' ');
      const who = renderText(e.slice(0, space), names);
      m.set(who, [...(m.get(who) ?? []), e.slice(space + 1).replace(/\*$/, ' WITH GRANT OPTION')]);
    }
    return m;
  };
  const parts: string[] = [];
  for (const [who, privs] of byGrantee(gained)) parts.push(`${who === 'OWNER' ? 'the owner' : who} gained ${privs.join(', ')}`);
  for (const [who, privs] of byGrantee(lost)) parts.push(`${who === 'OWNER' ? 'the owner' : who} lost ${privs.join(', ')}`);
  return `privileges: ${parts.join('; ')}`;
}

export function describeChange(field: string, expected: FieldValue, actual: FieldValue, names: Map<string, string>): string {
  if (field === 'privileges' && isList(expected) && isList(actual)) return describePrivileges(expected, actual, names);
  if (UNQUOTED_FIELDS.has(field)) return `${field} replaced (${quoteValue(expected, names)} → ${quoteValue(actual, names)})`;
  if (isList(expected) && isList(actual) && !ORDERED_FIELDS.has(field)) {
    const added = actual.filter((x) => !expected.includes(x));
    const removed = expected.filter((x) => !actual.includes(x));
    const parts = [added.length ? `added ${quoteValue(added, names)}` : '', removed.length ? `removed ${quoteValue(removed, names)}` : ''].filter(Boolean);
    return `${field}: ${parts.join('; ')}`;
  }
  return `${field} changed from ${quoteValue(expected, names)} to ${quoteValue(actual, names)}`;
}

/** Field-level differences of two versions of one object. Runs for every object of a large schema: no allocation when nothing differs. */
export function compareFields(reference: CatalogObject, live: CatalogObject, names: Map<string, string>): FieldChange[] {
  let changes: FieldChange[] | undefined;
  const check = (field: string, expected: FieldValue, actual: FieldValue) => {
    if (same(expected, actual)) return;
    if (ORDERED_FIELDS.has(field) && isList(expected) && isList(actual)) {
      const inActual = new Set(actual);
      const common = new Set(expected.filter((x) => inActual.has(x)));
      expected = expected.filter((x) => common.has(x));
      actual = actual.filter((x) => common.has(x));
      if (same(expected, actual)) return;
    }
    (changes ??= []).push({ field, expected, actual, description: describeChange(field, expected, actual, names) });
  };
  for (const field in reference.fields) check(field, reference.fields[field] ?? null, live.fields[field] ?? null);
  for (const field in live.fields) if (!(field in reference.fields)) check(field, null, live.fields[field] ?? null);
  if (!changes) return [];
  const fallback = FALLBACK_FIELDS[reference.type] ?? [];
  const precise = changes.filter((c) => !fallback.includes(c.field));
  return precise.length ? precise : changes;
}

interface Pair {
  reference?: CatalogObject | undefined;
  live?: CatalogObject | undefined;
  /** Matched by definition under different names that are not both PostgreSQL's. */
  renamed?: boolean;
}

/**
 * Pairs the constraints (or indexes) of one table: same name and definition; else same name
 * (a changed definition); else same definition (a name PostgreSQL chose differently, or a rename).
 */
export function matchByDefinition(reference: readonly CatalogObject[], live: readonly CatalogObject[]): Pair[] {
  const pairs: Pair[] = [];
  const refLeft = [...reference];
  const liveLeft = [...live];
  const take = (pred: (r: CatalogObject, l: CatalogObject) => boolean, renamed: (r: CatalogObject, l: CatalogObject) => boolean) => {
    for (let i = 0; i < refLeft.length; ) {
      const r = refLeft[i]!;
      const j = liveLeft.findIndex((l) => pred(r, l));
      if (j < 0) {
        i++;
        continue;
      }
      const l = liveLeft.splice(j, 1)[0]!;
      refLeft.splice(i, 1);
      pairs.push({ reference: r, live: l, renamed: renamed(r, l) });
    }
  };
  const never = () => false;
  take((r, l) => r.match!.name === l.match!.name && r.match!.signature === l.match!.signature, never);
  take((r, l) => r.match!.name === l.match!.name, never);
  take(
    (r, l) => r.match!.signature === l.match!.signature,
    (r, l) => !(r.match!.generatedName && l.match!.generatedName),
  );
  for (const r of refLeft) pairs.push({ reference: r });
  for (const l of liveLeft) pairs.push({ live: l });
  return pairs;
}

function pairUp(reference: Map<string, CatalogObject>, live: Map<string, CatalogObject>): Pair[] {
  const pairs: Pair[] = [];
  // By table, then by type: keys that already exist, so a large schema allocates no new ones.
  const groups = new Map<string, Map<string, { reference: CatalogObject[]; live: CatalogObject[] }>>();
  const group = (o: CatalogObject) => {
    let byType = groups.get(o.match!.table);
    if (!byType) groups.set(o.match!.table, (byType = new Map()));
    let g = byType.get(o.type);
    if (!g) byType.set(o.type, (g = { reference: [], live: [] }));
    return g;
  };
  for (const o of reference.values()) {
    if (o.match) group(o).reference.push(o);
    else pairs.push({ reference: o, live: live.get(o.key) });
  }
  for (const o of live.values()) {
    if (o.match) group(o).live.push(o);
    else if (!reference.has(o.key)) pairs.push({ live: o });
  }
  for (const byType of groups.values()) for (const g of byType.values()) pairs.push(...matchByDefinition(g.reference, g.live));
  return pairs;
}

/** Whether an ancestor of `o` (by parent keys, within its own side) is itself extra or missing. */
function insideReported(o: CatalogObject, side: Map<string, CatalogObject>, reported: Set<string>): boolean {
  const seen = new Set<string>();
  for (let p = o.parent; p !== undefined && !seen.has(p); p = side.get(p)?.parent) {
    if (reported.has(p)) return true;
    seen.add(p);
  }
  return false;
}

/** A finding's fix: its text, and the SQL of each way out where there is exact SQL. */
function fixFields(f: DriftFix): Pick<DriftFinding, 'fix' | 'migrationSql' | 'restoreSql'> {
  return { fix: f.text, ...(f.migrationSql !== undefined ? { migrationSql: f.migrationSql } : {}), ...(f.restoreSql !== undefined ? { restoreSql: f.restoreSql } : {}) };
}

const TYPE_ORDER = ['database', 'schema', 'extension', 'role membership', 'role settings', 'default privileges', 'type', 'table', 'view', 'materialized view', 'foreign table', 'sequence', 'column', 'constraint', 'index', 'trigger', 'policy', 'function', 'procedure', 'aggregate', 'event trigger'];

/**
 * The findings, in a stable order (object type, then name). `names` maps role symbols to the
 * live database's role names, for messages and fix SQL.
 */
export function diffSnapshots(reference: Map<string, CatalogObject>, live: Map<string, CatalogObject>, names: Map<string, string>): DriftFinding[] {
  const pairs = pairUp(reference, live);
  const extra = new Set(pairs.filter((p) => p.live && !p.reference).map((p) => p.live!.key));
  const missing = new Set(pairs.filter((p) => p.reference && !p.live).map((p) => p.reference!.key));
  const findings: DriftFinding[] = [];
  for (const p of pairs) {
    if (p.live && !p.reference) {
      if (insideReported(p.live, live, extra)) continue;
      const object = renderText(p.live.display, names);
      findings.push({
        kind: 'extra',
        objectType: p.live.type,
        object,
        fields: [],
        message: `${p.live.type} ${object} exists in the database but no migration creates it (created outside migrations)`,
        ...fixFields(driftFix({ kind: 'extra', live: p.live, names })),
      });
    } else if (p.reference && !p.live) {
      if (insideReported(p.reference, reference, missing)) continue;
      const object = renderText(p.reference.display, names);
      findings.push({
        kind: 'missing',
        objectType: p.reference.type,
        object,
        fields: [],
        message: `${p.reference.type} ${object} is built by the migrations but missing from the database`,
        ...fixFields(driftFix({ kind: 'missing', reference: p.reference, names })),
      });
    } else if (p.reference && p.live) {
      const fields = compareFields(p.reference, p.live, names);
      if (p.renamed) {
        const description = `name changed from ${p.reference.match!.name} to ${p.live.match!.name}`;
        fields.unshift({ field: 'name', expected: p.reference.match!.name, actual: p.live.match!.name, description });
      }
      if (!fields.length) continue;
      const object = renderText(p.live.display, names);
      findings.push({
        kind: 'changed',
        objectType: p.live.type,
        object,
        fields,
        message: `${object}: ${fields.map((f) => f.description).join('; ')}`,
        ...fixFields(driftFix({ kind: 'changed', reference: p.reference, live: p.live, fields, names })),
      });
    }
  }
  const rank = (t: string) => {
    const i = TYPE_ORDER.indexOf(t);
    return i < 0 ? TYPE_ORDER.length : i;
  };
  return findings.sort((a, b) => rank(a.objectType) - rank(b.objectType) || (a.object < b.object ? -1 : a.object > b.object ? 1 : 0) || a.kind.localeCompare(b.kind));
}

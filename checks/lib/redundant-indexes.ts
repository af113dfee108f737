/**
 * Duplicate and redundant indexes, decided from catalog facts alone (pure, tested directly).
 * Duplicate: the same definition (method, key columns or expressions, operator classes,
 * collations, sort options, INCLUDE list, predicate). Redundant: a plain btree index whose
 * keys are a leading prefix of another btree index with the same predicate. A primary or
 * unique index is always kept over a plain one; among equals the older (lower oid) stays.
 */

export interface IndexInfo {
  oid: number;
  /** Quoted, schema-qualified table and index names, as fix SQL spells them. */
  table: string;
  name: string;
  am: string;
  keys: string[];
  classes: string[];
  collations: string[];
  options: string[];
  include: string[];
  predicate: string | null;
  unique: boolean;
  primary: boolean;
  exclusion: boolean;
  nullsNotDistinct: boolean;
  /** The constraint the index backs (primary key, unique), dropped with ALTER TABLE … DROP CONSTRAINT. */
  constraint: string | null;
  valid: boolean;
}

export interface IndexVerdict {
  kind: 'duplicate' | 'redundant';
  drop: IndexInfo;
  keep: IndexInfo;
}

function rank(i: IndexInfo): number {
  if (i.primary) return 3;
  if (i.unique && i.constraint) return 2;
  if (i.unique) return 1;
  return 0;
}

function describe(i: IndexInfo): string {
  return i.primary ? 'primary key' : i.unique ? (i.constraint ? 'unique constraint' : 'unique index') : 'index';
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, k) => x === b[k]);

function sameKeyPrefix(short: IndexInfo, long: IndexInfo, n: number): boolean {
  for (let k = 0; k < n; k++) {
    if (short.keys[k] !== long.keys[k] || short.classes[k] !== long.classes[k] || short.collations[k] !== long.collations[k] || short.options[k] !== long.options[k]) {
      return false;
    }
  }
  return true;
}

function sameDefinition(a: IndexInfo, b: IndexInfo): boolean {
  return (
    a.am === b.am &&
    a.keys.length === b.keys.length &&
    sameKeyPrefix(a, b, a.keys.length) &&
    sameList(a.include, b.include) &&
    a.predicate === b.predicate &&
    // Two unique indexes that treat NULLs differently enforce different rules.
    !(a.unique && b.unique && a.nullsNotDistinct !== b.nullsNotDistinct)
  );
}

/** Orders keepers first: primary, constraint-backed unique, unique, plain; then the older one. */
function keeperOrder(a: IndexInfo, b: IndexInfo): number {
  return rank(b) - rank(a) || a.oid - b.oid;
}

export function findRedundantIndexes(indexes: readonly IndexInfo[]): IndexVerdict[] {
  const verdicts: IndexVerdict[] = [];
  const byTable = new Map<string, IndexInfo[]>();
  for (const i of indexes) {
    // Invalid indexes are another check's business; exclusion constraints are never redundant.
    if (!i.valid || i.exclusion) continue;
    const list = byTable.get(i.table) ?? [];
    list.push(i);
    byTable.set(i.table, list);
  }
  for (const list of byTable.values()) {
    list.sort(keeperOrder);
    const kept: IndexInfo[] = [];
    for (const i of list) {
      const twin = kept.find((k) => sameDefinition(k, i));
      if (twin) verdicts.push({ kind: 'duplicate', drop: i, keep: twin });
      else kept.push(i);
    }
    for (const i of kept) {
      if (i.unique || i.primary || i.am !== 'btree' || i.include.length > 0) continue;
      const wider = kept
        .filter((k) => k !== i && k.am === 'btree' && k.predicate === i.predicate && k.keys.length > i.keys.length && sameKeyPrefix(i, k, i.keys.length))
        .sort((a, b) => a.keys.length - b.keys.length || keeperOrder(a, b))[0];
      if (wider) verdicts.push({ kind: 'redundant', drop: i, keep: wider });
    }
  }
  return verdicts.sort((a, b) => a.drop.table.localeCompare(b.drop.table) || a.drop.name.localeCompare(b.drop.name));
}

export function verdictMessage(v: IndexVerdict): string {
  const what =
    v.kind === 'duplicate'
      ? `${describe(v.drop)} ${v.drop.name} duplicates ${describe(v.keep)} ${v.keep.name} (same definition)`
      : `index ${v.drop.name} (${v.drop.keys.join(', ')}) is redundant: its columns lead ${describe(v.keep)} ${v.keep.name} (${v.keep.keys.join(', ')})`;
  return `${what}; keep ${v.keep.name}`;
}

/** Dropping a constraint's index means dropping the constraint; a plain one goes without blocking writes. */
export function verdictFix(v: IndexVerdict): string {
  const constraint = v.drop.constraint;
  return constraint
    ? `ALTER TABLE ${v.drop.table} DROP CONSTRAINT ${constraint};`
    : `DROP INDEX CONCURRENTLY IF EXISTS ${v.drop.name};`;
}

import { literal } from '../../core/db/connect.ts';
import { destructiveStatements } from '../lib/data-preservation.ts';
import type { Severity } from '../types.ts';
import { describeAs, fileName, nextVersions, type FolderLayout } from './naming.ts';
import { fixStatements, type FixStatement } from './statements.ts';

/**
 * From findings to the migration files that repair them, decided from the findings and a few
 * catalog facts alone (pure, tested directly). Order: one transactional file first (guards,
 * extensions, triggers, everything that may share a transaction), then each concurrent index
 * build, then each rebuild, then each concurrent drop, so a replacement exists before what it
 * replaces goes.
 */

/** A finding as the report gives it, with the check that made it. */
export interface FixCandidate {
  check: string;
  object: string;
  message: string;
  fix: string;
  fixable: boolean;
  severity: Severity;
  /** schema-drift's detail: a difference in privileges or ownership alone is setup-db's to converge. */
  drift?: { kind: string; fields: ReadonlyArray<{ field: string }> } | undefined;
}

export interface IndexFact {
  /** Schema-qualified, as format('%I.%I') spells it. */
  name: string;
  valid: boolean;
  /** The constraint the index backs (primary key, unique, exclusion), if any. */
  constraint: string | null;
}

export interface ForeignKeyFact {
  /** `schema.table.constraint`, as foreign-key-indexes names it. */
  name: string;
  /** Every valid index that covers it. */
  covers: string[];
}

export interface CatalogFacts {
  indexes: IndexFact[];
  foreignKeys: ForeignKeyFact[];
}

export interface PlannedFile {
  name: string;
  version: string;
  noTransaction: boolean;
  sql: string;
  /** What it repairs: `check object`. */
  fixes: Array<{ check: string; object: string }>;
}

export interface NotWritten {
  check: string;
  object: string;
  severity: Severity;
  reason: string;
}

export interface FixPlan {
  files: PlannedFile[];
  /** Findings the files repair together. */
  written: Array<{ check: string; object: string }>;
  /** Findings left to a person (or to setup-db), each with why. */
  notWritten: NotWritten[];
}

/** Checks whose findings setup-db converges by itself: no migration may own roles and grants. */
const CONVERGED_BY_SETUP = new Set(['privileges']);

const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();

const accessOnly = (c: FixCandidate) => c.drift?.kind === 'changed' && c.drift.fields.length > 0 && c.drift.fields.every((f) => f.field === 'privileges' || f.field === 'owner');

/** Why a finding cannot be written, or undefined when it can. */
function refusal(c: FixCandidate, statements: readonly FixStatement[]): string | undefined {
  if (CONVERGED_BY_SETUP.has(c.check) || accessOnly(c)) return `setup-db converges roles and privileges to the model by itself; no migration is written (${oneLine(c.fix)})`;
  if (!c.fixable) return `needs a person: ${oneLine(c.fix)}`;
  if (statements.length === 0) return 'its fix has no SQL statement';
  const lost = destructiveStatements(statements.map((s) => s.sql).join('\n'));
  if (lost.length) return `its fix would lose data (${lost.map((d) => `${d.kind} ${d.object}`).join(', ')}), which is never written`;
  return undefined;
}

/**
 * A guard that makes a concurrent build re-runnable: a failed CREATE INDEX CONCURRENTLY leaves
 * an invalid index of that name, which IF NOT EXISTS would take for done. Dropping an invalid
 * index is instant; only then does the build in its own file run.
 */
export function invalidIndexGuard(index: string): string {
  return [
    `DO $guard$`,
    `BEGIN`,
    `  IF EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass(${literal(index)}) AND NOT indisvalid) THEN`,
    `    DROP INDEX ${index};`,
    `  END IF;`,
    `END`,
    `$guard$;`,
  ].join('\n');
}

interface Step {
  statement: FixStatement;
  from: FixCandidate;
}

/** Drops that would take the index a constraint owns, or a foreign key's last cover, are refused with their finding. */
function unsafeDrop(index: string, facts: CatalogFacts, covers: Map<string, Set<string>>): string | undefined {
  const fact = facts.indexes.find((i) => i.name === index);
  if (fact?.constraint) return `${index} backs constraint ${fact.constraint}; dropping the constraint is a person's decision`;
  for (const [fk, set] of covers) {
    if (set.has(index) && set.size === 1) return `${index} is the only index covering foreign key ${fk}; it stays`;
  }
  return undefined;
}

export function planFixes(candidates: readonly FixCandidate[], facts: CatalogFacts, layout: FolderLayout, now: Date): FixPlan {
  const notWritten: NotWritten[] = [];
  const accepted: Array<{ c: FixCandidate; statements: FixStatement[] }> = [];
  const covers = new Map(facts.foreignKeys.map((f) => [f.name, new Set(f.covers)]));
  for (const c of candidates) {
    const statements = fixStatements(c.fix);
    const why = refusal(c, statements);
    if (why) {
      notWritten.push({ check: c.check, object: c.object, severity: c.severity, reason: why });
      continue;
    }
    const drops = statements.flatMap((s) => (s.kind === 'drop-index' ? [s.index] : []));
    const unsafe = drops.map((d) => unsafeDrop(d, facts, covers)).find(Boolean);
    if (unsafe) {
      notWritten.push({ check: c.check, object: c.object, severity: c.severity, reason: unsafe });
      continue;
    }
    for (const d of drops) for (const set of covers.values()) set.delete(d);
    accepted.push({ c, statements });
  }

  const tx: Step[] = [];
  const builds: Step[] = [];
  const rebuilds: Step[] = [];
  const drops: Step[] = [];
  const seen = new Set<string>();
  const built = new Set<string>();
  for (const { c, statements } of accepted) {
    for (const s of statements) {
      const key = s.kind === 'create-index' ? `create ${s.index}` : oneLine(s.sql);
      if (seen.has(key)) continue;
      seen.add(key);
      if (s.kind === 'create-index') (builds.push({ statement: s, from: c }), built.add(s.index));
      else if (s.kind === 'drop-index') drops.push({ statement: s, from: c });
      else if (s.kind === 'reindex' || s.kind === 'alone') rebuilds.push({ statement: s, from: c });
      else tx.push({ statement: s, from: c });
    }
  }
  // An invalid index that a build of the same name replaces needs no rebuild: the guard drops it.
  const rebuildsLeft = rebuilds.filter((r) => !(r.statement.kind === 'reindex' && built.has(r.statement.index)));

  interface Draft {
    description: string;
    noTransaction: boolean;
    body: string;
    steps: Step[];
  }
  const drafts: Draft[] = [];
  const source = (s: Step) => `-- ${s.from.check}: ${s.from.object}: ${oneLine(s.from.message)}`;
  if (tx.length > 0 || builds.length > 0) {
    const parts: string[] = [];
    if (builds.length > 0) {
      parts.push(`-- Guards: an invalid index left by a failed concurrent build of the same name is dropped, so the build in its own file runs again.`);
      for (const b of builds) parts.push(invalidIndexGuard((b.statement as { index: string }).index));
    }
    // A finding's statements stay together, under one line saying what they repair.
    for (const [k, s] of tx.entries()) {
      if (k > 0 && tx[k - 1]!.from === s.from) parts[parts.length - 1] += `\n${s.statement.sql}`;
      else parts.push(`${source(s)}\n${s.statement.sql}`);
    }
    drafts.push({ description: 'pgsteward_fixes', noTransaction: false, body: parts.join('\n\n'), steps: tx });
  }
  const alone = (verb: string, list: Step[]) => {
    for (const s of list) {
      const target = 'index' in s.statement ? s.statement.index.split('.').pop()! : s.from.object;
      drafts.push({ description: describeAs(`pgsteward ${verb} ${target.replace(/"/g, '')}`), noTransaction: true, body: `${source(s)}\n${s.statement.sql}`, steps: [s] });
    }
  };
  alone('create', builds);
  alone('rebuild', rebuildsLeft);
  alone('drop', drops);

  const versions = nextVersions(layout, drafts.length, now);
  const files = drafts.map((d, k): PlannedFile => {
    const header = d.noTransaction
      ? ['-- no-transaction', '-- Written by pgsteward checks --write-fixes. CONCURRENTLY cannot run in a transaction, nor beside another statement.']
      : ['-- Written by pgsteward checks --write-fixes. Runs in one transaction.'];
    const fixes = [...new Map(d.steps.map((s) => [`${s.from.check} ${s.from.object}`, { check: s.from.check, object: s.from.object }])).values()];
    return { name: fileName(layout, versions[k]!, d.description), version: versions[k]!, noTransaction: d.noTransaction, sql: `${header.join('\n')}\n\n${d.body}\n`, fixes };
  });
  return { files, written: accepted.map(({ c }) => ({ check: c.check, object: c.object })), notWritten };
}

import { readName, showName, splitStatements, splitTopLevel, tokenize, type Statement, type Token } from './sql-text.ts';
import { typeChangeLoss } from './type-change.ts';

/**
 * The data-preservation policy for migrations (design record: "Preserve data by default",
 * "Explicit destructive operations"). DROP TABLE, DROP SCHEMA … CASCADE, DROP COLUMN,
 * TRUNCATE, DELETE without WHERE and a type change that can lose values are refused unless
 * the statement carries `-- destructive: <reason>` (on the lines before it, inside it, or
 * after its semicolon on the same line). Pure: the current column types come in as a function.
 */

export type DestructiveKind = 'drop-table' | 'drop-schema' | 'drop-column' | 'truncate' | 'delete-all' | 'type-change';

export interface TypeChange {
  /** Table name parts as written (unquoted, case-folded like PostgreSQL): ['public', 'users'] or ['users']. */
  table: string[];
  column: string;
  to: string;
}

export interface Destructive {
  kind: DestructiveKind;
  line: number;
  /** The table, column or schema affected, as PostgreSQL would print it. */
  object: string;
  message: string;
  /** The reason from `-- destructive: <reason>`; undefined when the statement is not annotated. */
  reason: string | undefined;
  /** The annotation was there but gave no reason. */
  emptyReason: boolean;
  statement: string;
}

/** Looks up a column's current type (format_type form); undefined when the database does not have it. */
export type ColumnTypeLookup = (table: readonly string[], column: string) => string | undefined;

interface Hit {
  kind: DestructiveKind;
  object: string;
  message: string;
}

/** Reads `-- destructive: <reason>` (or the same in a block comment) from a statement's comments. */
export function annotationOf(comments: readonly string[]): { reason: string | undefined; emptyReason: boolean } {
  for (const c of comments) {
    const body = c.startsWith('--') ? c.slice(2) : c.replace(/^\/\*|\*\/$/g, '');
    const m = /^\s*destructive\s*:(.*)$/is.exec(body);
    if (!m) continue;
    const reason = m[1]!.trim().split('\n')[0]!.trim();
    return reason ? { reason, emptyReason: false } : { reason: undefined, emptyReason: true };
  }
  return { reason: undefined, emptyReason: false };
}

const word = (tokens: readonly Token[], i: number) => (tokens[i]?.kind === 'word' ? tokens[i]!.text : undefined);
const isPunct = (t: Token | undefined, p: string) => t?.kind === 'punct' && t.text === p;

function typeText(tokens: readonly Token[]): string {
  const stop = tokens.findIndex((t) => t.kind === 'word' && (t.text === 'collate' || t.text === 'using'));
  return (stop < 0 ? tokens : tokens.slice(0, stop)).map((t) => t.raw).join(' ').replace(/\s*([(),\[\]])\s*/g, '$1').replace(/,/g, ', ');
}

/** Destructive operations in one statement's tokens, starting at its first token. */
function analyse(tokens: readonly Token[], columnType: ColumnTypeLookup | undefined, changes: TypeChange[]): Hit[] {
  const w = (i: number) => word(tokens, i);
  const hits: Hit[] = [];
  if (w(0) === 'drop' && w(1) === 'table') {
    let i = 2;
    if (w(i) === 'if' && w(i + 1) === 'exists') i += 2;
    for (const part of splitTopLevel(tokens.slice(i))) {
      const { parts } = readName(part, 0);
      if (parts.length) hits.push({ kind: 'drop-table', object: showName(parts), message: `DROP TABLE ${showName(parts)} deletes the table and every row in it` });
    }
  } else if (w(0) === 'drop' && w(1) === 'schema' && tokens.some((t) => t.kind === 'word' && t.text === 'cascade')) {
    let i = 2;
    if (w(i) === 'if' && w(i + 1) === 'exists') i += 2;
    for (const part of splitTopLevel(tokens.slice(i))) {
      const { parts } = readName(part, 0);
      if (parts.length) hits.push({ kind: 'drop-schema', object: showName(parts), message: `DROP SCHEMA ${showName(parts)} CASCADE deletes every table in it` });
    }
  } else if (w(0) === 'truncate') {
    let i = 1;
    if (w(i) === 'table') i++;
    for (const part of splitTopLevel(tokens.slice(i))) {
      const { parts } = readName(part, word(part, 0) === 'only' ? 1 : 0);
      if (parts.length) hits.push({ kind: 'truncate', object: showName(parts), message: `TRUNCATE ${showName(parts)} deletes every row` });
    }
  } else if (w(0) === 'alter' && w(1) === 'table') {
    let i = 2;
    if (w(i) === 'if' && w(i + 1) === 'exists') i += 2;
    if (w(i) === 'only') i++;
    const { parts: table, next } = readName(tokens, i);
    const t = showName(table);
    const rest = tokens.slice(isPunct(tokens[next], '*') ? next + 1 : next);
    for (const action of splitTopLevel(rest)) {
      const a = (k: number) => word(action, k);
      if (a(0) === 'drop' && a(1) !== 'constraint') {
        let k = 1;
        if (a(k) === 'column') k++;
        if (a(k) === 'if' && a(k + 1) === 'exists') k += 2;
        const col = action[k];
        if (col && (col.kind === 'word' || col.kind === 'quoted-ident')) {
          hits.push({ kind: 'drop-column', object: `${t}.${showName([col.text])}`, message: `ALTER TABLE ${t} DROP COLUMN ${showName([col.text])} deletes that column's data` });
        }
      } else if (a(0) === 'alter') {
        let k = 1;
        if (a(k) === 'column') k++;
        const col = action[k];
        if (!col || (col.kind !== 'word' && col.kind !== 'quoted-ident')) continue;
        k++;
        if (a(k) === 'set' && a(k + 1) === 'data' && a(k + 2) === 'type') k += 3;
        else if (a(k) === 'type') k++;
        else continue;
        const to = typeText(action.slice(k));
        changes.push({ table, column: col.text, to });
        const from = columnType?.(table, col.text);
        const c = `${t}.${showName([col.text])}`;
        const head = `ALTER TABLE ${t} ALTER COLUMN ${showName([col.text])} TYPE ${to}`;
        if (!from) {
          hits.push({ kind: 'type-change', object: c, message: `${head}: the column's current type is unknown here, so the change cannot be shown to keep every value` });
        } else {
          const loss = typeChangeLoss(from, to);
          if (loss) hits.push({ kind: 'type-change', object: c, message: `${head} ${loss}` });
        }
      }
    }
  }
  // DELETE without WHERE, also inside WITH … (DELETE …); not in CREATE (rules, function bodies).
  if (w(0) !== 'create') {
    for (let i = 0; i < tokens.length; i++) {
      if (w(i) !== 'delete' || w(i + 1) !== 'from') continue;
      let j = i + 2;
      if (w(j) === 'only') j++;
      const { parts } = readName(tokens, j);
      let depth = 0;
      let hasWhere = false;
      for (let k = i + 2; k < tokens.length && depth >= 0; k++) {
        if (isPunct(tokens[k], '(')) depth++;
        else if (isPunct(tokens[k], ')')) depth--;
        else if (depth === 0 && word(tokens, k) === 'where') hasWhere = true;
      }
      if (!hasWhere && parts.length) hits.push({ kind: 'delete-all', object: showName(parts), message: `DELETE FROM ${showName(parts)} without WHERE deletes every row` });
    }
  }
  return hits;
}

/** Code run by DO blocks: statements may start anywhere (after BEGIN, THEN, …), and EXECUTE strings count too. */
function analyseBody(body: string, columnType: ColumnTypeLookup | undefined, changes: TypeChange[]): Hit[] {
  const tokens = tokenize(body).filter((t) => t.kind !== 'comment');
  const hits: Hit[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind === 'string') {
      const inner = t.raw.replace(/^[eE]?'|'$/g, '').replace(/''/g, "'");
      hits.push(...analyseBody(inner, columnType, changes));
    } else if (t.kind === 'word' && ['drop', 'truncate', 'alter', 'delete'].includes(t.text)) {
      const end = tokens.findIndex((x, k) => k > i && isPunct(x, ';'));
      const stmt = tokens.slice(i, end < 0 ? tokens.length : end);
      if (t.text === 'truncate' && (word(stmt, 1) === 'on' || isPunct(stmt[1], ';'))) continue;
      hits.push(...analyse(stmt, columnType, changes));
    }
  }
  return hits;
}

function statementHits(s: Statement, columnType: ColumnTypeLookup | undefined, changes: TypeChange[]): Hit[] {
  if (word(s.tokens, 0) === 'do') {
    const body = s.tokens.find((t) => t.kind === 'dollar-string' || t.kind === 'string');
    if (!body) return [];
    const text = body.kind === 'dollar-string' ? body.text : body.raw.replace(/^[eE]?'|'$/g, '').replace(/''/g, "'");
    return analyseBody(text, columnType, changes).map((h) => ({ ...h, message: `${h.message} (inside a DO block)` }));
  }
  return analyse(s.tokens, columnType, changes);
}

/** The type changes a script makes, so the caller can look up the columns' current types first. */
export function typeChangesIn(sql: string): TypeChange[] {
  const changes: TypeChange[] = [];
  for (const s of splitStatements(sql)) statementHits(s, undefined, changes);
  return changes;
}

/** Every destructive statement in a script, annotated or not. */
export function destructiveStatements(sql: string, columnType?: ColumnTypeLookup): Destructive[] {
  const out: Destructive[] = [];
  for (const s of splitStatements(sql)) {
    const hits = statementHits(s, columnType, []);
    if (hits.length === 0) continue;
    const { reason, emptyReason } = annotationOf(s.comments);
    const first = s.text.split('\n')[0]!;
    const statement = first.length > 100 ? `${first.slice(0, 97)}...` : first;
    for (const h of hits) out.push({ ...h, line: s.line, reason, emptyReason, statement });
  }
  return out;
}

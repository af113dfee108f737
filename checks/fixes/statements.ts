import { readName, showName, splitStatements, type Token } from '../lib/sql-text.ts';

/**
 * A finding's fix SQL, statement by statement, sorted by how a migration must run it. The
 * runner (as sqlx) sends a file as one query, and PostgreSQL refuses CONCURRENTLY (and VACUUM)
 * anywhere in a multi-statement query: each such statement needs a `-- no-transaction` file
 * of its own. Pure.
 */
export type FixStatement =
  | { kind: 'create-index'; sql: string; /** Schema-qualified, as the catalog's format('%I.%I') spells it. */ index: string; table: string; unique: boolean }
  | { kind: 'drop-index'; sql: string; index: string }
  | { kind: 'reindex'; sql: string; index: string }
  /** Any other statement that cannot run inside a transaction block. */
  | { kind: 'alone'; sql: string }
  | { kind: 'transactional'; sql: string };

const word = (t: Token | undefined, w: string) => t?.kind === 'word' && t.text === w;

/** Skips the words in `ws` in order when they are there; returns the next index. */
function skip(tokens: readonly Token[], i: number, ...ws: string[]): number {
  let j = i;
  for (const w of ws) if (word(tokens[j], w)) j++;
  return j;
}

export function classifyStatement(tokens: readonly Token[], text: string): FixStatement {
  const sql = `${text};`;
  const concurrent = tokens.some((t) => word(t, 'concurrently'));
  if (word(tokens[0], 'create') && concurrent) {
    let i = 1;
    const unique = word(tokens[i], 'unique');
    i = skip(tokens, i, 'unique', 'index', 'concurrently');
    if (word(tokens[i], 'if')) i = skip(tokens, i, 'if', 'not', 'exists');
    const name = readName(tokens, i);
    let j = skip(tokens, name.next, 'on', 'only');
    const table = readName(tokens, j);
    j = table.next;
    // An index lives in its table's schema; CREATE INDEX does not take a qualified index name.
    // A build without a name (`CREATE INDEX CONCURRENTLY ON t …`) gets one from PostgreSQL: nothing to guard by name.
    if (name.parts.length === 1 && !word(tokens[i], 'on') && table.parts.length >= 1) {
      const schema = table.parts.length > 1 ? table.parts[table.parts.length - 2]! : undefined;
      const index = schema ? showName([schema, name.parts[0]!]) : showName(name.parts);
      return { kind: 'create-index', sql, index, table: showName(table.parts), unique };
    }
  }
  if (word(tokens[0], 'drop') && word(tokens[1], 'index') && concurrent) {
    let i = skip(tokens, 2, 'concurrently');
    if (word(tokens[i], 'if')) i = skip(tokens, i, 'if', 'exists');
    const name = readName(tokens, i);
    // One name, no CASCADE: anything else is a person's decision.
    if (name.parts.length > 0 && name.next === tokens.length) return { kind: 'drop-index', sql, index: showName(name.parts) };
  }
  if (word(tokens[0], 'reindex') && concurrent) {
    const i = skip(tokens, 1, 'index', 'concurrently');
    if (word(tokens[1], 'index')) {
      const name = readName(tokens, i);
      if (name.parts.length > 0 && name.next === tokens.length) return { kind: 'reindex', sql, index: showName(name.parts) };
    }
  }
  if (concurrent || word(tokens[0], 'vacuum')) return { kind: 'alone', sql };
  return { kind: 'transactional', sql };
}

/** The statements of one fix, in order; comments are dropped (the file says where each came from). */
export function fixStatements(fix: string): FixStatement[] {
  return splitStatements(fix).map((s) => classifyStatement(s.tokens, s.text));
}

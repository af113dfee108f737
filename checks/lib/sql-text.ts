import { derivedIdent } from './identifiers.ts';

/**
 * Just enough SQL lexing to find statements and their keywords: comments, quoted strings,
 * quoted identifiers and dollar quoting are recognised so a `;` or a keyword inside them is
 * never mistaken for code. Pure; no parser dependency.
 */

export type TokenKind = 'word' | 'quoted-ident' | 'string' | 'dollar-string' | 'number' | 'punct' | 'comment';

export interface Token {
  kind: TokenKind;
  /** Source text; for words, lower-cased; for quoted identifiers, the name without quotes. */
  text: string;
  raw: string;
  start: number;
  line: number;
}

export interface Statement {
  /** Source text from the first token to the terminating `;` (exclusive). */
  text: string;
  line: number;
  /** Code tokens, comments removed. */
  tokens: Token[];
  /** Comments inside the statement and those directly before it (after the previous statement). */
  comments: string[];
}

const isIdentStart = (c: string) => /[A-Za-z_\u0080-\uffff]/.test(c);
const isIdentPart = (c: string) => /[A-Za-z0-9_$\u0080-\uffff]/.test(c);

export function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let line = 1;
  const push = (kind: TokenKind, start: number, end: number, text?: string) => {
    const raw = sql.slice(start, end);
    out.push({ kind, raw, text: text ?? raw, start, line });
    line += (raw.match(/\n/g) ?? []).length;
  };
  while (i < sql.length) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === '\n') {
      line++;
      i++;
    } else if (/\s/.test(c)) {
      i++;
    } else if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end < 0 ? sql.length : end;
      push('comment', i, stop);
      i = stop;
    } else if (c === '/' && next === '*') {
      // Block comments nest in PostgreSQL.
      let depth = 1;
      let j = i + 2;
      while (j < sql.length && depth > 0) {
        if (sql[j] === '/' && sql[j + 1] === '*') (depth++, (j += 2));
        else if (sql[j] === '*' && sql[j + 1] === '/') (depth--, (j += 2));
        else j++;
      }
      push('comment', i, j);
      i = j;
    } else if (c === "'" || ((c === 'E' || c === 'e') && next === "'")) {
      const escapes = c !== "'";
      let j = escapes ? i + 2 : i + 1;
      while (j < sql.length) {
        if (escapes && sql[j] === '\\') j += 2;
        else if (sql[j] === "'" && sql[j + 1] === "'") j += 2;
        else if (sql[j] === "'") break;
        else j++;
      }
      push('string', i, Math.min(j + 1, sql.length));
      i = j + 1;
    } else if (c === '"') {
      let j = i + 1;
      while (j < sql.length) {
        if (sql[j] === '"' && sql[j + 1] === '"') j += 2;
        else if (sql[j] === '"') break;
        else j++;
      }
      push('quoted-ident', i, Math.min(j + 1, sql.length), sql.slice(i + 1, j).replace(/""/g, '"'));
      i = j + 1;
    } else if (c === '$' && /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.test(sql.slice(i, i + 66))) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i))![0];
      const close = sql.indexOf(tag, i + tag.length);
      const end = close < 0 ? sql.length : close + tag.length;
      push('dollar-string', i, end, sql.slice(i + tag.length, close < 0 ? sql.length : close));
      i = end;
    } else if (isIdentStart(c)) {
      let j = i + 1;
      while (j < sql.length && isIdentPart(sql[j]!)) j++;
      push('word', i, j, sql.slice(i, j).toLowerCase());
      i = j;
    } else if (/[0-9]/.test(c) || (c === '.' && next !== undefined && /[0-9]/.test(next))) {
      let j = i + 1;
      while (j < sql.length && /[0-9.eE_]/.test(sql[j]!)) j++;
      push('number', i, j);
      i = j;
    } else if (c === ':' && next === ':') {
      push('punct', i, i + 2);
      i += 2;
    } else {
      push('punct', i, i + 1);
      i++;
    }
  }
  return out;
}

/**
 * Splits a script into statements at top-level semicolons. SQL-standard function bodies
 * (BEGIN ATOMIC … END) keep their inner semicolons.
 */
export function splitStatements(sql: string): Statement[] {
  const tokens = tokenize(sql);
  const out: Statement[] = [];
  let code: Token[] = [];
  let comments: string[] = [];
  let depth = 0;
  let atomic = 0;
  let terminatorLine = -1;
  const flush = (endOffset: number) => {
    if (code.length > 0) {
      out.push({ text: sql.slice(code[0]!.start, endOffset).trim(), line: code[0]!.line, tokens: code, comments });
      comments = [];
    }
    code = [];
  };
  for (const t of tokens) {
    if (t.kind === 'comment') {
      // `DROP TABLE x; -- destructive: …` annotates the statement it trails on the same line.
      const previous = out[out.length - 1];
      if (code.length === 0 && previous && t.line === terminatorLine) previous.comments.push(t.raw);
      else comments.push(t.raw);
      continue;
    }
    if (t.kind === 'punct' && t.text === '(') depth++;
    else if (t.kind === 'punct' && t.text === ')') depth = Math.max(0, depth - 1);
    else if (t.kind === 'word') {
      const prev = code[code.length - 1];
      if (t.text === 'atomic' && prev?.kind === 'word' && prev.text === 'begin') atomic++;
      else if (atomic > 0 && t.text === 'case') atomic++;
      else if (atomic > 0 && t.text === 'end') atomic--;
    }
    if (t.kind === 'punct' && t.text === ';' && depth === 0 && atomic === 0) {
      terminatorLine = t.line;
      flush(t.start);
      continue;
    }
    code.push(t);
  }
  flush(sql.length);
  return out;
}

/** Words and identifiers of a name like `public.users` or `"My Table"`, starting at `i`; returns the parts and the next index. */
export function readName(tokens: readonly Token[], i: number): { parts: string[]; next: number } {
  const parts: string[] = [];
  let j = i;
  while (j < tokens.length && (tokens[j]!.kind === 'word' || tokens[j]!.kind === 'quoted-ident')) {
    parts.push(tokens[j]!.text);
    if (tokens[j + 1]?.kind === 'punct' && tokens[j + 1]!.text === '.') j += 2;
    else {
      j++;
      break;
    }
  }
  return { parts, next: j };
}

/** A name as PostgreSQL would quote it, for messages and lookups: `public.users`, `"My Table"`. */
export function showName(parts: readonly string[]): string {
  return parts.map(derivedIdent).join('.');
}

/** Splits tokens at depth-0 commas (ALTER TABLE action lists, DROP TABLE name lists). */
export function splitTopLevel(tokens: readonly Token[], separator = ','): Token[][] {
  const parts: Token[][] = [[]];
  let depth = 0;
  for (const t of tokens) {
    if (t.kind === 'punct' && t.text === '(') depth++;
    if (t.kind === 'punct' && t.text === ')') depth--;
    if (depth === 0 && t.kind === 'punct' && t.text === separator) parts.push([]);
    else parts[parts.length - 1]!.push(t);
  }
  return parts.filter((p) => p.length > 0);
}

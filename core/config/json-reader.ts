import { UserError } from '../errors.ts';

/**
 * Reads one parsed JSON config file value by value. Every refusal is one line naming the file,
 * the key's path and the fix, so a typo is found from the message alone.
 */

export type Json = Record<string, unknown>;

/** Edit distance, for "did you mean": small names, so the plain table is cheap. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** The known name a typo most likely meant: within a third of its length (at least 2 edits), else undefined. */
export function closest(name: string, known: readonly string[]): string | undefined {
  let best: { k: string; d: number } | undefined;
  for (const k of known) {
    const d = distance(name, k);
    if (d <= Math.max(2, Math.floor(k.length / 3)) && (!best || d < best.d)) best = { k, d };
  }
  return best?.k;
}

/** Keys every object may carry besides its settings: an editor's `$schema`, and `//` comments. */
export function isAnnotation(key: string): boolean {
  return key === '$schema' || key.startsWith('//');
}

export const FORMAT_HINT = 'see docs/configuration.md for the file format';

export class Reader {
  constructor(readonly file: string) {}

  fail(where: string, problem: string, fix: string): never {
    throw new UserError(`${this.file}: ${where} ${problem}`, fix);
  }

  /** An object whose keys are all known; undefined reads as empty. */
  object(v: unknown, where: string, keys: readonly string[]): Json {
    if (v === undefined) return {};
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(where || 'the file', 'must be an object', FORMAT_HINT);
    const o = v as Json;
    for (const k of Object.keys(o)) {
      if (isAnnotation(k) || keys.includes(k)) continue;
      const guess = closest(k, keys);
      this.fail(`${where ? where + '.' : ''}${k}`, 'is not a known setting', guess ? `did you mean ${where ? where + '.' : ''}${guess}?` : `use one of: ${keys.join(', ')}`);
    }
    return o;
  }

  /** An object whose keys are names the user chooses (tables, columns); undefined reads as empty. */
  map(v: unknown, where: string): Json {
    if (v === undefined) return {};
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(where, 'must be an object', FORMAT_HINT);
    return Object.fromEntries(Object.entries(v as Json).filter(([k]) => !isAnnotation(k)));
  }

  array(v: unknown, where: string): unknown[] | undefined {
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) this.fail(where, 'must be a list', `write it as [ … ]; ${FORMAT_HINT}`);
    return v;
  }

  string(v: unknown, where: string, def: string): string;
  string(v: unknown, where: string, def?: undefined): string | undefined;
  string(v: unknown, where: string, def?: string): string | undefined {
    if (v === undefined) return def;
    if (typeof v !== 'string' || v === '') this.fail(where, 'must be a non-empty string', 'fix the value or remove the key');
    return v;
  }

  /** A list of non-empty strings; undefined when absent. */
  strings(v: unknown, where: string): string[] | undefined {
    const a = this.array(v, where);
    return a?.map((x, i) => this.string(x, `${where}[${i}]`) ?? this.fail(`${where}[${i}]`, 'must be a non-empty string', 'fix the value or remove it'));
  }

  int(v: unknown, where: string, def: number, min: number, max: number): number;
  int(v: unknown, where: string, def: undefined, min: number, max: number): number | undefined;
  int(v: unknown, where: string, def: number | undefined, min: number, max: number): number | undefined {
    if (v === undefined) return def;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) this.fail(where, `must be a whole number from ${min} to ${max}`, 'fix the value or remove the key');
    return v;
  }

  number(v: unknown, where: string, def: number, min: number, max: number): number {
    if (v === undefined) return def;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) this.fail(where, `must be a number from ${min} to ${max}`, 'fix the value or remove the key');
    return v;
  }

  bool(v: unknown, where: string, def: boolean): boolean {
    if (v === undefined) return def;
    if (typeof v !== 'boolean') this.fail(where, 'must be true or false', 'fix the value or remove the key');
    return v;
  }

  oneOf<T extends string>(v: unknown, where: string, allowed: readonly T[], def: T): T {
    if (v === undefined) return def;
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      const guess = typeof v === 'string' ? closest(v, allowed) : undefined;
      this.fail(where, `must be one of ${allowed.join(', ')}`, guess ? `did you mean "${guess}"?` : 'fix the value or remove the key');
    }
    return v as T;
  }
}

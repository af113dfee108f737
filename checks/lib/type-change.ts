/**
 * Whether changing a column from one type to another can lose or refuse existing values.
 * `from` is what format_type() prints; `to` is what a migration wrote, aliases and all. Pure.
 */

export interface SqlType {
  base: string;
  mods: number[];
  array: boolean;
}

const ALIASES: Record<string, string> = {
  int: 'integer', int4: 'integer', integer: 'integer', serial: 'integer', serial4: 'integer',
  int8: 'bigint', bigint: 'bigint', bigserial: 'bigint', serial8: 'bigint',
  int2: 'smallint', smallint: 'smallint', smallserial: 'smallint', serial2: 'smallint',
  float8: 'double precision', 'double precision': 'double precision',
  float4: 'real', real: 'real',
  decimal: 'numeric', numeric: 'numeric',
  varchar: 'character varying', 'character varying': 'character varying', 'char varying': 'character varying',
  char: 'character', character: 'character', bpchar: 'character',
  text: 'text', citext: 'citext',
  timestamptz: 'timestamp with time zone', 'timestamp with time zone': 'timestamp with time zone',
  timestamp: 'timestamp without time zone', 'timestamp without time zone': 'timestamp without time zone',
  timetz: 'time with time zone', 'time with time zone': 'time with time zone',
  time: 'time without time zone', 'time without time zone': 'time without time zone',
  bool: 'boolean', boolean: 'boolean',
  varbit: 'bit varying', 'bit varying': 'bit varying',
};

/** Parses `varchar(20)`, `numeric(10, 2)`, `timestamp(3) with time zone`, `text[]`, `pg_catalog.int4`. */
export function parseType(text: string): SqlType {
  let t = text.trim().toLowerCase().replace(/\s+/g, ' ').replace(/"/g, '');
  const array = /\[\s*\d*\s*\]$/.test(t) || /\barray$/.test(t);
  t = t.replace(/(\s*\[\s*\d*\s*\])+$/, '').replace(/\s+array$/, '');
  t = t.replace(/^pg_catalog\./, '');
  const mods: number[] = [];
  t = t.replace(/\s*\(([^)]*)\)/, (_, inner: string) => {
    for (const m of inner.split(',')) if (m.trim() !== '') mods.push(Number(m.trim()));
    return '';
  });
  t = t.replace(/\s+/g, ' ').trim();
  if (t === 'float') t = mods.length && mods[0]! <= 24 ? 'real' : 'double precision';
  if (t.startsWith('float')) mods.length = 0;
  if ((t === 'character' || t === 'char') && mods.length === 0) mods.push(1);
  return { base: ALIASES[t] ?? t, mods, array };
}

const INTEGER_DIGITS: Record<string, number> = { smallint: 5, integer: 10, bigint: 19 };
const INTEGER_RANK: Record<string, number> = { smallint: 1, integer: 2, bigint: 3 };
const TEXTUAL = new Set(['text', 'citext', 'character varying', 'character']);
const DEFAULT_PRECISION = 6;

function length(t: SqlType): number {
  return t.mods[0] ?? Infinity;
}

/** undefined when every existing value survives the change; otherwise why it may not. */
export function typeChangeLoss(fromText: string, toText: string): string | undefined {
  const from = parseType(fromText);
  const to = parseType(toText);
  const shown = `${fromText} to ${toText}`;
  if (from.array !== to.array) return `changes ${shown}: between an array and a single value`;
  if (from.base === to.base && from.mods.join() === to.mods.join()) return undefined;

  // Unbounded text holds the text form of any value.
  if ((to.base === 'text' || to.base === 'citext' || (to.base === 'character varying' && to.mods.length === 0)) && !from.array) return undefined;

  if (TEXTUAL.has(from.base) && TEXTUAL.has(to.base)) {
    return length(to) >= length(from) ? undefined : `shortens ${shown}: longer values are refused or cut`;
  }
  if (from.base in INTEGER_RANK) {
    if (to.base in INTEGER_RANK) return INTEGER_RANK[to.base]! >= INTEGER_RANK[from.base]! ? undefined : `narrows ${shown}: large values no longer fit`;
    if (to.base === 'numeric') {
      if (to.mods.length === 0) return undefined;
      const [p, s = 0] = to.mods;
      return p! - s >= INTEGER_DIGITS[from.base]! ? undefined : `narrows ${shown}: numeric(${to.mods.join(',')}) cannot hold every ${from.base}`;
    }
    if (to.base === 'double precision' && from.base !== 'bigint') return undefined;
    if (to.base === 'real' && from.base === 'smallint') return undefined;
    return `changes ${shown}: not every value is exactly representable`;
  }
  if (from.base === 'numeric' && to.base === 'numeric') {
    if (to.mods.length === 0) return undefined;
    if (from.mods.length === 0) return `narrows ${shown}: an unconstrained numeric gets a precision limit`;
    const [p1, s1 = 0] = from.mods;
    const [p2, s2 = 0] = to.mods;
    return s2 >= s1 && p2! - s2 >= p1! - s1 ? undefined : `narrows ${shown}: digits are lost or values overflow`;
  }
  if (from.base === 'real' && (to.base === 'double precision' || (to.base === 'numeric' && to.mods.length === 0))) return undefined;
  if (from.base === 'double precision' && to.base === 'numeric' && to.mods.length === 0) return undefined;

  const timePrecision = (t: SqlType) => t.mods[0] ?? DEFAULT_PRECISION;
  const stamps = ['timestamp without time zone', 'timestamp with time zone'];
  if (stamps.includes(from.base) && stamps.includes(to.base)) {
    if (timePrecision(to) < timePrecision(from)) return `narrows ${shown}: fractional seconds are rounded away`;
    if (from.base === 'timestamp with time zone' && to.base === 'timestamp without time zone') return `changes ${shown}: the instant is reinterpreted in the session time zone`;
    return undefined;
  }
  if (from.base === 'date' && stamps.includes(to.base)) return undefined;
  if (from.base === 'json' && to.base === 'jsonb') return undefined;
  if (from.base === 'jsonb' && to.base === 'json') return undefined;
  if (from.base === 'character varying' || from.base === 'text' || from.base === 'citext' || from.base === 'character') {
    return `changes ${shown}: text that does not parse as ${to.base} is refused, and the change may fail on existing rows`;
  }
  return `changes ${shown}: values may not convert or may lose information`;
}

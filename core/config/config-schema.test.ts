import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../paths.ts';
import { CHECKS_KEYS } from './checks-config.ts';
import { JOB_NAMES, OPS_KEYS, TOP_LEVEL_KEYS } from './ops-config.ts';
import { parseProjectConfig, POOL_KEYS } from './project-config.ts';
import { ROLE_KINDS } from './role-names.ts';
import { TARGET_KINDS } from './target-settings.ts';

/**
 * pgsteward.config.schema.json is for editors; the parser is what commands trust. No JSON
 * Schema validator is a dependency, so this file holds a small one for exactly the keywords the
 * schema uses (and fails if the schema starts using another), and pins the schema's key sets to
 * the parser's so the two cannot drift.
 */

type Schema = Record<string, unknown>;
const schema = JSON.parse(readFileSync(path.join(REPO_ROOT, 'pgsteward.config.schema.json'), 'utf8')) as Schema;
const definitions = schema.definitions as Record<string, Schema>;

const KEYWORDS = new Set([
  '$schema', '$id', '$ref', 'title', 'description', 'default', 'definitions',
  'type', 'properties', 'patternProperties', 'additionalProperties', 'propertyNames', 'required',
  'items', 'minItems', 'enum', 'anyOf', 'minimum', 'maximum', 'minLength', 'pattern',
]);

function resolve(s: Schema): Schema {
  if (typeof s.$ref !== 'string') return s;
  const name = /^#\/definitions\/(.+)$/.exec(s.$ref)?.[1];
  if (!name || !definitions[name]) throw new Error(`unresolvable $ref ${s.$ref}`);
  return definitions[name]!;
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** Every way `v` breaks `s`, as `path: problem`; empty when it conforms. */
function validate(v: unknown, s0: Schema, at = '$'): string[] {
  const s = resolve(s0);
  const errs: string[] = [];
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
    const t = typeOf(v);
    if (!types.includes(t) && !(t === 'integer' && types.includes('number'))) return [`${at}: is ${t}, not ${types.join('|')}`];
  }
  if (s.enum && !(s.enum as unknown[]).includes(v)) errs.push(`${at}: not one of ${(s.enum as unknown[]).join(', ')}`);
  if (s.anyOf && !(s.anyOf as Schema[]).some((b) => validate(v, b, at).length === 0)) errs.push(`${at}: matches no alternative`);
  if (typeof v === 'string') {
    if (typeof s.minLength === 'number' && v.length < s.minLength) errs.push(`${at}: too short`);
    if (typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(v)) errs.push(`${at}: does not match ${s.pattern}`);
  }
  if (typeof v === 'number') {
    if (typeof s.minimum === 'number' && v < s.minimum) errs.push(`${at}: below ${s.minimum}`);
    if (typeof s.maximum === 'number' && v > s.maximum) errs.push(`${at}: above ${s.maximum}`);
  }
  if (Array.isArray(v)) {
    if (typeof s.minItems === 'number' && v.length < s.minItems) errs.push(`${at}: fewer than ${s.minItems} items`);
    if (s.items) v.forEach((x, i) => errs.push(...validate(x, s.items as Schema, `${at}[${i}]`)));
  }
  if (typeOf(v) === 'object') {
    const o = v as Record<string, unknown>;
    for (const r of (s.required as string[] | undefined) ?? []) if (!(r in o)) errs.push(`${at}: lacks ${r}`);
    for (const [k, x] of Object.entries(o)) {
      const props = (s.properties ?? {}) as Record<string, Schema>;
      const patterns = Object.entries((s.patternProperties ?? {}) as Record<string, Schema>).filter(([p]) => new RegExp(p, 'u').test(k));
      if (s.propertyNames) errs.push(...validate(k, s.propertyNames as Schema, `${at} key ${k}`));
      if (props[k]) errs.push(...validate(x, props[k]!, `${at}.${k}`));
      for (const [, p] of patterns) errs.push(...validate(x, p, `${at}.${k}`));
      if (!props[k] && patterns.length === 0) {
        if (s.additionalProperties === false) errs.push(`${at}.${k}: not allowed`);
        else if (typeof s.additionalProperties === 'object') errs.push(...validate(x, s.additionalProperties as Schema, `${at}.${k}`));
      }
    }
  }
  return errs;
}

/** Every keyword the schema uses, wherever it is. */
function keywordsIn(s: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(s)) s.forEach((x) => keywordsIn(x, out));
  else if (s && typeof s === 'object') {
    for (const [k, v] of Object.entries(s)) {
      out.add(k);
      if (k === 'properties' || k === 'definitions' || k === 'patternProperties') Object.values(v as object).forEach((x) => keywordsIn(x, out));
      else if (typeof v === 'object') keywordsIn(v, out);
    }
  }
  return out;
}

/** The property names a schema object declares, comments and `$schema` aside. */
function keysOf(s: Schema): string[] {
  return Object.keys((resolve(s).properties ?? {}) as object).filter((k) => k !== '$schema');
}
const prop = (s: Schema, ...names: string[]): Schema => names.reduce((x, n) => resolve(((resolve(x).properties as Record<string, Schema>)[n])!), s);
/** A policy's settings object: the object branch of its `true | false | {…}`. */
const settings = (s: Schema): Schema => resolve((s.anyOf as Schema[]).find((b) => resolve(b).type === 'object')!);

const parseOk = (raw: unknown) => parseProjectConfig(raw, { file: 'example.json', baseDir: REPO_ROOT, stateDir: '/tmp/state', env: {} });

/** The JSON examples a page shows: every ```json block. */
function jsonBlocks(file: string): Array<{ line: number; value: unknown }> {
  const text = readFileSync(path.join(REPO_ROOT, file), 'utf8');
  const out: Array<{ line: number; value: unknown }> = [];
  const re = /^```json\n([\s\S]*?)^```/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push({ line: text.slice(0, m.index).split('\n').length, value: JSON.parse(m[1]!) });
  return out;
}

describe('pgsteward.config.schema.json', () => {
  it('uses only the keywords this test validates', () => {
    expect([...keywordsIn(schema)].filter((k) => !KEYWORDS.has(k))).toEqual([]);
  });

  it('accepts this repository’s file, the fixture application’s, and every JSON example in docs/configuration.md, as the parser does', () => {
    const examples = [
      { where: 'pgsteward.config.json', value: JSON.parse(readFileSync(path.join(REPO_ROOT, 'pgsteward.config.json'), 'utf8')) },
      { where: 'test/fixtures/app/pgsteward.config.json', value: JSON.parse(readFileSync(path.join(REPO_ROOT, 'test/fixtures/app/pgsteward.config.json'), 'utf8')) },
      ...jsonBlocks('docs/configuration.md').map((b) => ({ where: `docs/configuration.md:${b.line}`, value: b.value })),
    ];
    expect(examples.length).toBeGreaterThanOrEqual(5);
    for (const e of examples) {
      expect(validate(e.value, schema), e.where).toEqual([]);
      expect(() => parseOk(e.value), e.where).not.toThrow();
    }
  });

  it('refuses what the parser refuses: a typo, a wrong type, a policy that is neither true, false nor settings', () => {
    expect(validate({ checks: { probeRow: {} } }, schema)).toEqual(['$.checks.probeRow: not allowed']);
    expect(validate({ checks: { policies: { updatedAt: { colum: 'x' } } } }, schema)).toEqual(['$.checks.policies.updatedAt: matches no alternative']);
    expect(validate({ pool: { max: '10' } }, schema)).toEqual(['$.pool.max: is string, not integer']);
    expect(validate({ checks: { policies: { search: 'yes' } } }, schema)).toEqual(['$.checks.policies.search: matches no alternative']);
    expect(validate({ checks: { probeRows: { 'public.users': { email: {} } } } }, schema)).toEqual(['$.checks.probeRows.public.users.email: is object, not string|number|boolean']);
    expect(validate({ backups: { targets: { prod: { storage: { type: 's3' } } } } }, schema)).toEqual(['$.backups.targets.prod.storage: matches no alternative']);
    for (const bad of [{ checks: { probeRow: {} } }, { checks: { policies: { updatedAt: { colum: 'x' } } } }, { pool: { max: '10' } }, { checks: { policies: { search: 'yes' } } }]) {
      expect(() => parseOk(bad)).toThrow();
    }
  });

  it('declares exactly the keys the parser reads, object by object', () => {
    const checks = definitions.checks!;
    const policies = prop(checks, 'policies');
    const pairs: Array<[string, string[], readonly string[]]> = [
      ['top level', keysOf(schema), TOP_LEVEL_KEYS],
      ['pool', keysOf(prop(schema, 'pool')), POOL_KEYS],
      ['checks', keysOf(checks), CHECKS_KEYS.checks],
      ['checks.policies', keysOf(policies), CHECKS_KEYS.policies],
      ['uuidv7Keys', keysOf(settings(prop(policies, 'uuidv7Keys'))), CHECKS_KEYS.uuidv7Keys],
      ['updatedAt', keysOf(settings(prop(policies, 'updatedAt'))), CHECKS_KEYS.updatedAt],
      ['emailCaseInsensitive', keysOf(settings(prop(policies, 'emailCaseInsensitive'))), CHECKS_KEYS.emailCaseInsensitive],
      ['search', keysOf(settings(prop(policies, 'search'))), CHECKS_KEYS.search],
      ['roles', keysOf(settings(prop(policies, 'roles'))), CHECKS_KEYS.roles],
      ['roles.names', keysOf(prop(settings(prop(policies, 'roles')), 'names')), ROLE_KINDS],
      ['ledger', keysOf(settings(prop(policies, 'ledger'))), CHECKS_KEYS.ledger],
      ['search probe', keysOf(definitions.searchProbe!), CHECKS_KEYS.searchProbe],
      ['search query', keysOf(resolve(prop(definitions.searchProbe!, 'queries').items as Schema)), CHECKS_KEYS.searchQuery],
      ['squawk', keysOf(prop(checks, 'squawk')), CHECKS_KEYS.squawk],
      ['ignore', keysOf(resolve(prop(checks, 'ignore').items as Schema)), CHECKS_KEYS.ignore],
      ['backups', keysOf(prop(schema, 'backups')), OPS_KEYS.backups],
      ['backups.targets', keysOf(prop(schema, 'backups', 'targets')), TARGET_KINDS],
      ['retention', keysOf(definitions.retention!), OPS_KEYS.retention],
      ['target', keysOf(definitions.target!), OPS_KEYS.target],
      ['local storage', keysOf(definitions.localStorage!), OPS_KEYS.localStorage],
      ['s3 storage', keysOf(definitions.s3Storage!), OPS_KEYS.s3Storage],
      ['docker', keysOf(prop(definitions.target!, 'docker')), OPS_KEYS.docker],
      ['cron', keysOf(prop(schema, 'cron')), OPS_KEYS.cron],
      ['cron.jobs', keysOf(prop(schema, 'cron', 'jobs')), JOB_NAMES],
      ['job', keysOf(definitions.job!), OPS_KEYS.job],
    ];
    for (const [where, inSchema, inParser] of pairs) expect([...inSchema].sort(), where).toEqual([...inParser].sort());
  });
});


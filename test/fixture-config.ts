import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Expectations } from '../checks/expectations.ts';

/**
 * Reads an application's pgsteward.config.json (the fixture's) into what the checks take
 * today, `Partial<Expectations>`. A stand-in: the project configuration loader with its JSON
 * Schema (issue 13 §2) replaces it, and the fixture test then passes `--config` instead. It
 * reads only the keys the fixture uses and refuses any other, so a file that drifts from what
 * is read here fails loudly rather than being half-applied.
 */

export interface AppConfig {
  database: string;
  /** Absolute: resolved against the config file's folder. */
  migrationsDir: string;
  expectations: Partial<Expectations>;
}

interface RawConfig {
  database: string;
  migrations: string;
  pool?: { max: number; min: number; instances: number };
  checks: {
    schemas: string[];
    ignoreTables: string[];
    policies: {
      uuidv7Keys?: { functions: string[] } | false;
      updatedAt?: { column: string; function: string } | false;
      emailCaseInsensitive?: { columns: string[] } | false;
      search?: false;
      roles?: boolean;
      ledger?: boolean;
    };
    probeRows: Record<string, Record<string, string>>;
  };
}

function only(o: object, keys: string[], where: string): void {
  for (const k of Object.keys(o)) if (k !== '$schema' && k !== '//' && !keys.includes(k)) throw new Error(`${where}.${k} is not read by test/fixture-config.ts`);
}

/** `public.users.email` → `{ table: 'public.users', column: 'email' }`. */
function tableColumn(s: string): { table: string; column: string } {
  const cut = s.lastIndexOf('.');
  return { table: s.slice(0, cut), column: s.slice(cut + 1) };
}

export function readAppConfig(file: string): AppConfig {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as RawConfig;
  only(raw, ['database', 'migrations', 'pool', 'checks'], 'config');
  only(raw.checks, ['schemas', 'ignoreTables', 'policies', 'probeRows'], 'checks');
  only(raw.checks.policies, ['uuidv7Keys', 'updatedAt', 'emailCaseInsensitive', 'search', 'roles', 'ledger'], 'checks.policies');
  const p = raw.checks.policies;
  if (p.search !== false || !p.uuidv7Keys || !p.updatedAt || !p.emailCaseInsensitive) throw new Error('test/fixture-config.ts reads only a config with search off and the other policies on');
  const expectations: Partial<Expectations> = {
    schemas: raw.checks.schemas,
    // Our ledger is recognised by the checks themselves once issue 13 §3 lands; today it is named.
    ignoreTables: [...raw.checks.ignoreTables, 'public._sqlx_migrations'],
    uuidV7Functions: p.uuidv7Keys.functions,
    requireUuidKeys: true,
    updatedAt: p.updatedAt,
    emailColumns: p.emailCaseInsensitive.columns.map(tableColumn),
    search: { fullText: [], trigram: [], probes: [] },
    probeRows: raw.checks.probeRows,
    ...(raw.pool ? { pool: raw.pool } : {}),
  };
  return { database: raw.database, migrationsDir: path.resolve(path.dirname(file), raw.migrations), expectations };
}

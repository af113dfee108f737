import { readFileSync } from 'node:fs';
import { connect } from '../core/db/connect.ts';
import type { ConnectionSettings } from '../core/db/url.ts';
import { createDatabase, pgAdmin } from '../test/db.ts';
import { splitStatements } from './lib/sql-text.ts';
import { runChecks, type RunChecksOptions } from './suite.ts';
import type { CheckResult } from './types.ts';

/**
 * A fresh database built from a check's fixture file. `__DB__` in the file becomes the
 * database's name (roles are cluster-wide, so fixtures name theirs after it). Statements run
 * one at a time, so CREATE INDEX CONCURRENTLY works; a statement preceded by
 * `-- fixture: expect error` may fail (that is how an invalid index is made).
 */
export async function fixtureDatabase(file: URL, prefix = 'ck'): Promise<{ database: string; connection: ConnectionSettings }> {
  const database = await createDatabase(prefix);
  const text = readFileSync(file, 'utf8').replaceAll('__DB__', database);
  const sql = connect(pgAdmin(database), { max: 1 });
  try {
    for (const s of splitStatements(text)) {
      const mayFail = s.comments.some((c) => /fixture:\s*expect error/i.test(c));
      try {
        await sql.unsafe(s.text);
      } catch (e) {
        if (!mayFail) throw new Error(`fixture ${file.pathname}:${s.line}: ${(e as Error).message}`);
      }
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
  return { database, connection: pgAdmin(database) };
}

/** Runs one check and returns its result. */
export async function runOne(id: string, opts: Omit<RunChecksOptions, 'only'>): Promise<CheckResult> {
  const report = await runChecks({ ...opts, only: [id] });
  return report.results[0]!;
}

/** The objects a result's findings name, for assertions. */
export function objects(r: CheckResult): string[] {
  return r.findings.map((f) => f.object);
}

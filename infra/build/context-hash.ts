import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * A content hash over the files an image is built from, so a pushed image can be tagged by
 * what is in it. ECR tags are immutable here: the tag must change exactly when the image's
 * inputs do. Tests and node_modules never reach an image (see .dockerignore) and are skipped.
 */

const SKIP = (rel: string) => /(^|\/)node_modules(\/|$)/.test(rel) || rel.endsWith('.test.ts') || /(^|\/)\./.test(rel);

function filesUnder(root: string, rel: string, out: string[]): void {
  const abs = path.join(root, rel);
  if (!existsSync(abs) || SKIP(rel)) return;
  if (statSync(abs).isDirectory()) {
    for (const name of readdirSync(abs).sort()) filesUnder(root, rel ? `${rel}/${name}` : name, out);
  } else out.push(rel);
}

/** Sorted repository-relative files under `paths` (files or folders). */
export function contextFiles(root: string, paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of paths) filesUnder(root, p.replace(/\/+$/, ''), out);
  return [...new Set(out)].sort();
}

export function contextHash(root: string, paths: readonly string[]): string {
  const h = createHash('sha256');
  for (const rel of contextFiles(root, paths)) {
    const bytes = readFileSync(path.join(root, rel));
    h.update(`${rel}\0${bytes.length}\0`).update(bytes);
  }
  return h.digest('hex');
}

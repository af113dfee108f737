import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../core/paths.ts';
import { runnerTag } from '../runner/image.ts';
import { contextFiles, contextHash } from './context-hash.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-context-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const put = (rel: string, text: string) => {
  mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  writeFileSync(path.join(root, rel), text);
};

describe('image content tags', () => {
  put('core/a.ts', 'export const a = 1;\n');
  put('core/a.test.ts', 'test\n');
  put('core/node_modules/x/index.js', 'x\n');
  put('Dockerfile', 'FROM node\n');
  const paths = ['core', 'Dockerfile'];

  it('hash exactly the files an image is built from: no tests, no node_modules, no dotfiles', () => {
    put('core/.hidden', 'h\n');
    expect(contextFiles(root, paths)).toEqual(['Dockerfile', 'core/a.ts']);
  });

  it('change when a copied file changes, and only then', () => {
    const before = contextHash(root, paths);
    put('core/a.test.ts', 'changed test\n');
    put('core/node_modules/x/index.js', 'changed\n');
    expect(contextHash(root, paths)).toBe(before);
    put('core/a.ts', 'export const a = 2;\n');
    expect(contextHash(root, paths)).not.toBe(before);
    // A renamed file is a change too, even with the same bytes.
    const renamed = contextHash(root, paths);
    rmSync(path.join(root, 'core/a.ts'));
    put('core/b.ts', 'export const a = 2;\n');
    expect(contextHash(root, paths)).not.toBe(renamed);
  });

  it("tag the repository's runner image deterministically", () => {
    expect(runnerTag()).toMatch(/^c-[0-9a-f]{16}$/);
    expect(runnerTag()).toBe(runnerTag(REPO_ROOT));
  });
});

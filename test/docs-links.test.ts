import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { headingAnchors, relativeLinks } from './docs-links.ts';

const root = path.resolve(import.meta.dirname, '..');

function markdownFiles(): string[] {
  const out = ['README.md', 'BENCHMARKS.md'];
  const walk = (dir: string) => {
    for (const entry of readdirSync(path.join(root, dir))) {
      const rel = path.join(dir, entry);
      if (statSync(path.join(root, rel)).isDirectory()) walk(rel);
      else if (entry.endsWith('.md')) out.push(rel);
    }
  };
  walk('docs');
  return out.filter((f) => existsSync(path.join(root, f)));
}

describe('links between README and docs', () => {
  it('reads links and anchors as GitHub renders them', () => {
    const md = '# Backups, restores and cron\n## `restore-db`\n## Tests\n## Tests\n[a](docs/x.md#y) [b](https://e.com) `[c](no.md)`\n```\n[d](no.md)\n```';
    expect(relativeLinks(md)).toEqual([{ target: 'docs/x.md', anchor: 'y', line: 5 }]);
    expect([...headingAnchors(md)]).toEqual(['backups-restores-and-cron', 'restore-db', 'tests', 'tests-1']);
  });

  it('every relative link in README.md and docs/ names a file that exists, and an anchor it has', () => {
    const broken: string[] = [];
    for (const file of markdownFiles()) {
      const text = readFileSync(path.join(root, file), 'utf8');
      for (const link of relativeLinks(text)) {
        const target = link.target === '' ? file : path.join(path.dirname(file), link.target);
        const abs = path.join(root, target);
        if (!existsSync(abs)) {
          broken.push(`${file}:${link.line} -> ${link.target} (no such file)`);
          continue;
        }
        if (link.anchor && target.endsWith('.md') && !headingAnchors(readFileSync(abs, 'utf8')).has(link.anchor)) {
          broken.push(`${file}:${link.line} -> ${link.target}#${link.anchor} (no such heading)`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it('every docs page says who it is for near its top', () => {
    const missing = markdownFiles()
      .filter((f) => f.startsWith('docs/'))
      .filter((f) => !/\bfor\b/i.test(readFileSync(path.join(root, f), 'utf8').split('\n').slice(0, 8).join('\n')));
    expect(missing).toEqual([]);
  });
});

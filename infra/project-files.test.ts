import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../core/paths.ts';
import { CONFIG_NAMESPACE, parseStackConfig } from './config.ts';

/**
 * Pulumi.yaml and the stack files, read as the CLI would read them (flat YAML: these files
 * use nothing else), checked against the program: the entry point exists and can be loaded
 * as ESM TypeScript, and every stack file's settings pass the program's own validation.
 */

function flatYaml(file: string): { top: Record<string, string>; nested: Record<string, Record<string, string>> } {
  const top: Record<string, string> = {};
  const nested: Record<string, Record<string, string>> = {};
  let section: string | undefined;
  for (const raw of readFileSync(path.join(REPO_ROOT, file), 'utf8').split('\n')) {
    const line = raw.replace(/\s+#.*$/, '').replace(/^#.*$/, '');
    if (!line.trim()) continue;
    const m = /^(\s*)([\w:.-]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    const value = m[3]!.replace(/^"(.*)"$/, '$1');
    if (m[1] === '') {
      section = m[2]!;
      top[section] = value;
    } else if (section) {
      (nested[section] ??= {})[m[2]!] = value;
    }
  }
  return { top, nested };
}

describe('Pulumi project files', () => {
  const project = flatYaml('Pulumi.yaml');

  it('name the project after the config namespace and point main at the entry point', () => {
    expect(project.top.name).toBe(CONFIG_NAMESPACE);
    expect(existsSync(path.join(REPO_ROOT, project.top.main!))).toBe(true);
  });

  it('load the program through tsx, not ts-node', () => {
    expect(project.nested.runtime).toMatchObject({ name: 'nodejs', typescript: 'false', nodeargs: '--import tsx' });
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { type: string; dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
    expect(pkg.type).toBe('module');
    expect(pkg.dependencies?.tsx ?? pkg.devDependencies?.tsx).toBeDefined();
  });

  for (const stack of ['dev', 'prod']) {
    it(`Pulumi.${stack}.yaml holds a valid ${stack} configuration`, () => {
      const config = flatYaml(`Pulumi.${stack}.yaml`).nested.config ?? {};
      expect(Object.keys(config).length).toBeGreaterThan(0);
      expect(parseStackConfig(config, stack).target).toBe(stack);
    });
  }

  it('lets the documented teardown work on top of Pulumi.prod.yaml: decommission is not contradicted by the file', () => {
    const config = flatYaml('Pulumi.prod.yaml').nested.config ?? {};
    expect(parseStackConfig({ ...config, 'pgsteward:decommission': 'true' }, 'prod')).toMatchObject({ decommission: true, deletionProtection: false });
  });
});

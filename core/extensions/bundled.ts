import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../paths.ts';

/** Extensions we ship as SQL (extensions/<name>/), for servers that lack the real ones. */
export const EXTENSIONS_DIR = path.join(REPO_ROOT, 'extensions');

export interface ControlFile {
  comment: string | undefined;
  defaultVersion: string | undefined;
  relocatable: boolean;
  trusted: boolean;
  requires: string[];
}

/** Pure: the settings of an extension control file (`name = value` lines, `#` comments). */
export function parseControl(text: string): ControlFile {
  const values = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-z_]+)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new Error(`not a control-file line: ${line.slice(0, 60)}`);
    let value = m[2]!.trim();
    if (value.startsWith("'")) {
      const end = value.lastIndexOf("'");
      value = value.slice(1, end > 0 ? end : undefined).replace(/''/g, "'");
    }
    values.set(m[1]!, value);
  }
  const bool = (key: string) => /^(true|on|yes|1)$/i.test(values.get(key) ?? '');
  return {
    comment: values.get('comment'),
    defaultVersion: values.get('default_version'),
    relocatable: bool('relocatable'),
    trusted: bool('trusted'),
    requires: (values.get('requires') ?? '').split(',').map((s) => s.trim()).filter(Boolean),
  };
}

export interface BundledExtension {
  name: string;
  version: string;
  control: ControlFile;
  /** Absolute paths of the control file and every install script, as the server's share/extension wants them. */
  files: Array<{ name: string; source: string }>;
  /** The install script of `version`. */
  script: string;
}

/** One extension from extensions/<name>/: its control file and the install script of its default version. */
export function bundledExtension(name: string, dir = path.join(EXTENSIONS_DIR, name)): BundledExtension {
  const controlPath = path.join(dir, `${name}.control`);
  const control = parseControl(readFileSync(controlPath, 'utf8'));
  if (!control.defaultVersion) throw new Error(`${controlPath} sets no default_version`);
  const scriptName = `${name}--${control.defaultVersion}.sql`;
  const scripts = readdirSync(dir).filter((f) => f.startsWith(`${name}--`) && f.endsWith('.sql')).sort();
  if (!scripts.includes(scriptName)) throw new Error(`${dir} has no ${scriptName}`);
  return {
    name,
    version: control.defaultVersion,
    control,
    files: [`${name}.control`, ...scripts].map((f) => ({ name: f, source: path.join(dir, f) })),
    script: readFileSync(path.join(dir, scriptName), 'utf8'),
  };
}

/** The SQL implementation of pg_uuidv7 1.6. */
export function pgUuidv7(): BundledExtension {
  return bundledExtension('pg_uuidv7');
}

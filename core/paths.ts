import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, wherever the command is started from. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const MIGRATIONS_DIR = path.join(REPO_ROOT, 'migrations');

import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { generatePassword, rememberSecret } from '../secrets.ts';

/**
 * Passwords the local target generated: the superuser's and one per login role.
 * Kept in a git-ignored 0600 file so they are stable across runs and never printed.
 */
export interface LocalSecrets {
  superuser: string;
  roles: Record<string, string>;
}

/**
 * Refused, the way ssh refuses a private key others can read: the passwords in it may already
 * have been copied, so quietly tightening the mode would hide that. The fix says how to rotate.
 */
function refuseLooseMode(file: string): void {
  const mode = statSync(file).mode & 0o777;
  if (mode & 0o077) {
    throw new UserError(
      `secrets file ${file} is readable or writable by other users (mode 0${mode.toString(8)})`,
      `run chmod 600 ${file}; if others could read it, rotate: remove the "roles" entries from it and run setup-db, which generates new passwords`,
    );
  }
}

export function readSecrets(file: string): LocalSecrets | undefined {
  if (!existsSync(file)) return undefined;
  refuseLooseMode(file);
  try {
    const s = JSON.parse(readFileSync(file, 'utf8')) as LocalSecrets;
    rememberSecret(s.superuser);
    Object.values(s.roles ?? {}).forEach(rememberSecret);
    return { superuser: s.superuser, roles: s.roles ?? {} };
  } catch {
    throw new UserError(`secrets file ${file} is unreadable`, 'restore it from a backup, or stop the local cluster and delete its data folder to start over');
  }
}

export function writeSecrets(file: string, secrets: LocalSecrets): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(secrets, null, 2) + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/**
 * Records a password given by hand (DB_APP_PASSWORD…) as the one the role has, before setup
 * sets it on the server, so that the next run without the variable keeps it instead of
 * silently putting the generated one back.
 */
export function recordRolePassword(file: string, role: string, password: string): void {
  const s = readSecrets(file);
  if (!s) throw new UserError(`secrets file ${file} is missing`, 'start the local cluster first (npm start)');
  if (s.roles[role] === password) return;
  s.roles[role] = password;
  writeSecrets(file, s);
}

/** Returns the password for `role`, generating and saving one the first time. */
export function ensureRolePassword(file: string, role: string): string {
  const s = readSecrets(file);
  if (!s) throw new UserError(`secrets file ${file} is missing`, 'start the local cluster first (npm start)');
  let pw = s.roles[role];
  if (!pw) {
    pw = generatePassword();
    s.roles[role] = pw;
    writeSecrets(file, s);
  }
  rememberSecret(pw);
  return pw;
}

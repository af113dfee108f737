import { randomBytes } from 'node:crypto';

/**
 * Every secret the process has seen, so that any text leaving it (logs, errors, reports)
 * can be scrubbed with `scrub` even when a library echoes a value it was given.
 */
const known = new Set<string>();

export function rememberSecret(value: string | undefined): void {
  if (value && value.length >= 4) known.add(value);
}

export function knownSecrets(): Iterable<string> {
  return known;
}

export function scrub(text: string): string {
  let out = text.replace(/(postgres(?:ql)?:\/\/[^:/@\s]+:)[^@\s]+@/g, '$1***@');
  for (const s of known) out = out.split(s).join('***');
  return out;
}

/** 32 url-safe characters: long enough, and safe in URLs and SQL literals alike. */
export function generatePassword(): string {
  return randomBytes(24).toString('base64url');
}

/** A command's --json result on stdout: one document, bigints as strings. */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? String(v) : v), 2) + '\n');
}

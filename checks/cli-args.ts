/** `--only a,b --only c` → ['a', 'b', 'c']; undefined when the flag is absent or empty. */
export function listFlag(value: string | boolean | string[] | undefined): string[] | undefined {
  if (value === undefined || typeof value === 'boolean') return undefined;
  const all = (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  return all.length ? all : undefined;
}

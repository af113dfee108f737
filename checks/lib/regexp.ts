/**
 * Escapes text for use inside a regular expression, JavaScript's or PostgreSQL's (the
 * metacharacters they share are the ones escaped), so a column named `a.b` matches only itself.
 */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

import { quoteIdent } from './normalize.ts';

/**
 * Objects are compared with role symbols (`@app`); what users read names the live roles.
 * These turn the symbols in a display string or a SQL text into the live database's names.
 */

const SYMBOL = /@(owner|migrator|app|readonly|backup|admin)\b/g;

/** For messages: `@app` → `app_app`; a symbol the live side lacks stays readable ("the app role"). */
export function renderText(text: string, names: Map<string, string>): string {
  return text.replace(SYMBOL, (sym, kind: string) => names.get(sym) ?? (kind === 'admin' ? 'the administrator' : `the ${kind} role`));
}

/** For SQL: the same, quoted as an identifier. */
export function renderSql(text: string, names: Map<string, string>): string {
  return text.replace(SYMBOL, (sym, kind: string) => {
    const name = names.get(sym);
    return name ? quoteIdent(name) : `<${kind} role>`;
  });
}

/**
 * aclitem text (`grantee=privileges/grantor`, as PostgreSQL prints a privilege list) taken
 * apart. Pure. Grantee and grantor are role names, quoted like identifiers where they need
 * it; an empty grantee is PUBLIC; `*` after a letter is WITH GRANT OPTION.
 */

/** The privilege letters of aclitem text (src/include/utils/acl.h, ACL_ALL_RIGHTS_STR "arwdDxtXUCTcsAm"). */
const LETTERS: Record<string, string> = {
  a: 'INSERT',
  r: 'SELECT',
  w: 'UPDATE',
  d: 'DELETE',
  D: 'TRUNCATE',
  x: 'REFERENCES',
  t: 'TRIGGER',
  X: 'EXECUTE',
  U: 'USAGE',
  C: 'CREATE',
  T: 'TEMPORARY',
  c: 'CONNECT',
  s: 'SET',
  A: 'ALTER SYSTEM',
  m: 'MAINTAIN',
};

export interface AclItem {
  /** null for PUBLIC. */
  grantee: string | null;
  privileges: Array<{ privilege: string; grantable: boolean }>;
  grantor: string;
}

/** Reads a role name at `i`: quoted (`"a""b"`) or bare up to `stop`. */
function readName(text: string, i: number, stop: string): [string, number] {
  if (text[i] !== '"') {
    const end = text.indexOf(stop, i);
    const to = end < 0 ? text.length : end;
    return [text.slice(i, to), to];
  }
  let name = '';
  let j = i + 1;
  while (j < text.length) {
    if (text[j] === '"') {
      if (text[j + 1] === '"') {
        name += '"';
        j += 2;
        continue;
      }
      return [name, j + 1];
    }
    name += text[j++];
  }
  throw new Error(`unterminated role name in aclitem ${text}`);
}

export function parseAclItem(text: string): AclItem {
  const [grantee, eq] = readName(text, 0, '=');
  if (text[eq] !== '=') throw new Error(`malformed aclitem ${text}`);
  const privileges: AclItem['privileges'] = [];
  let i = eq + 1;
  for (; i < text.length && text[i] !== '/'; i++) {
    const privilege = LETTERS[text[i]!];
    if (!privilege) throw new Error(`unknown privilege "${text[i]}" in aclitem ${text}`);
    const grantable = text[i + 1] === '*';
    privileges.push({ privilege, grantable });
    if (grantable) i++;
  }
  const [grantor] = text[i] === '/' ? readName(text, i + 1, '\u0000') : [''];
  return { grantee: grantee === '' ? null : grantee, privileges, grantor };
}

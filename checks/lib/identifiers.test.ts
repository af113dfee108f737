import { describe, expect, it } from 'vitest';
import { derivedIdent, derivedName, qualified, truncateBytes } from './identifiers.ts';

describe('identifiers', () => {
  it('derives index names and keeps them within 63 bytes', () => {
    expect(derivedName('orders', ['account_id'], 'idx')).toBe('orders_account_id_idx');
    const long = derivedName('a'.repeat(60), ['b'.repeat(30)], 'idx');
    expect(Buffer.byteLength(long)).toBe(63);
    expect(long.endsWith('_idx')).toBe(true);
    expect(truncateBytes('ééé', 5)).toBe('éé');
  });
  it('quotes only where needed', () => {
    expect(derivedIdent('orders_idx')).toBe('orders_idx');
    expect(derivedIdent('Orders_idx')).toBe('"Orders_idx"');
    expect(qualified('public', 'My Table')).toBe('public."My Table"');
  });
});

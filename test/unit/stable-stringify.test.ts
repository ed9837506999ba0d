import { describe, expect, it } from 'vitest';
import { stableStringify } from '../../src/lib/hashing.ts';

/**
 * The text behind idempotency fingerprints: a stored record's fingerprint must keep matching the same request
 * after an upgrade, so the form is pinned here, not only its insensitivity to key order.
 */
describe('stableStringify', () => {
  it('sorts keys at every level (by UTF-16 code units) and is JSON otherwise', () => {
    const body = {
      order: { total_amount: 990, currency: 'MXN', products: [{ quantity: 1, id: '7197' }] },
      b: [true, null, 'a"\u00e9\n'],
      Z: 1,
      é: {},
      '': [],
    };
    expect(stableStringify(body)).toBe(
      '{"":[],"Z":1,"b":[true,null,"a\\"é\\n"],"order":{"currency":"MXN","products":[{"id":"7197","quantity":1}],"total_amount":990},"é":{}}',
    );
    expect(JSON.parse(stableStringify(body))).toEqual(body);
  });

  it('leaves out undefined members as JSON does, and writes undefined list items and values as null', () => {
    expect(stableStringify({ a: undefined, b: 1, c: [undefined, 2] })).toBe('{"b":1,"c":[null,2]}');
    expect(stableStringify(undefined)).toBe('null');
    expect(stableStringify({ only: undefined })).toBe('{}');
    expect(stableStringify([])).toBe('[]');
  });

  it('is the same text whatever the key order and white space of the JSON it came from', () => {
    const one = JSON.parse('{"x": {"b": 2, "a": [1, {"d": 4, "c": 3}]}, "y": "z"}');
    const other = JSON.parse('{"y":"z","x":{"a":[1,{"c":3,"d":4}],"b":2}}');
    expect(stableStringify(one)).toBe(stableStringify(other));
  });
});

import { describe, expect, it } from 'vitest';
import { pooledRandomBase64, pooledRandomHex } from '../../src/lib/random.ts';

describe('pooled random values', () => {
  it('has the requested size and never repeats a value across pool refills', () => {
    const seen = new Set<string>();
    for (let index = 0; index < 2000; index += 1) seen.add(pooledRandomHex(16)); // ~8 refills of 4 KiB
    expect(seen.size).toBe(2000);
    for (const value of seen) expect(value).toMatch(/^[0-9a-f]{32}$/);
    expect(Buffer.from(pooledRandomBase64(16), 'base64')).toHaveLength(16);
  });

  it('refuses more bytes than one pool holds', () => {
    expect(() => pooledRandomHex(5000)).toThrow(RangeError);
  });
});

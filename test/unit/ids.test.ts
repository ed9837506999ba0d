import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { derivedId, hasIdPrefix, idPattern, newId } from '../../src/lib/ids.ts';

const OLD_FORM = 'chk_2e48c0ffee0000000000000000000001'; // an id made before ids were time-led: 32 hex

describe('ids', () => {
  it('are the prefix, 12 hex digits of the time they were made, and 32 random hex digits', () => {
    const before = Date.now();
    const id = newId('chk');
    const after = Date.now();
    expect(id).toMatch(/^chk_[0-9a-f]{44}$/);
    const made = Number.parseInt(id.slice(4, 16), 16);
    expect(made).toBeGreaterThanOrEqual(before);
    expect(made).toBeLessThanOrEqual(after);
    expect(newId('chk').slice(16)).not.toBe(id.slice(16));
  });

  it('made one after another sort one after another, so indexes keyed by them grow at one edge', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      ids.push(newId('evt'));
      await sleep(2);
    }
    expect([...ids].sort()).toEqual(ids);
  });

  it('are recognised in both forms, time-led and the older all-random one', () => {
    expect(hasIdPrefix(newId('pay'), 'pay')).toBe(true);
    expect(hasIdPrefix(OLD_FORM, 'chk')).toBe(true);
    expect(hasIdPrefix(OLD_FORM, 'pay')).toBe(false);
    expect(hasIdPrefix(`chk_${'a'.repeat(33)}`, 'chk')).toBe(false);
    expect(hasIdPrefix(`chk_${'a'.repeat(43)}`, 'chk')).toBe(false);
    expect(hasIdPrefix(`chk_${'A'.repeat(44)}`, 'chk')).toBe(false);

    const pending = idPattern('chk', 'pl');
    expect(pending.test(newId('chk'))).toBe(true);
    expect(pending.test(newId('pl'))).toBe(true);
    expect(pending.test(OLD_FORM)).toBe(true);
    expect(pending.test(newId('pay'))).toBe(false);
    expect(pending.test(`x${newId('chk')}`)).toBe(false);
  });

  it('derived from a parent take its time part, and none from an older parent', () => {
    const digest = 'f'.repeat(64);
    const parent = newId('pay');
    const derived = derivedId('cap', parent, digest);
    expect(derived).toBe(`cap_${parent.slice(4, 16)}${'f'.repeat(32)}`);
    expect(derivedId('cap', parent, digest)).toBe(derived);
    expect(derivedId('pay', OLD_FORM, digest)).toBe(`pay_${'f'.repeat(32)}`);
  });
});

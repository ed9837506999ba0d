import { createCipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createKeyring, masterKeyId } from '../../src/lib/keyring.ts';

/**
 * Sealed values name the master key that sealed them, so a keyring can hold the current key and previous
 * ones during a rotation, and a rotation can find what is left to re-seal (src/lib/keyring.ts).
 */

/** A value sealed the way versions before the key id did: iv ‖ tag ‖ ciphertext, the purpose as AAD. */
function sealUnversioned(masterKey: Buffer, purpose: string, plaintext: string): Buffer {
  const key = Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), `kassa:${purpose}`, 32));
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(purpose));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), ciphertext]);
}

describe('versioned sealed values', () => {
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);

  it("carry a header with the sealing key's id and open again", () => {
    const keyring = createKeyring(newKey);
    const sealed = keyring.encrypt('saved-card-encryption', 'card 4111');
    expect(sealed.subarray(0, 3)).toEqual(Buffer.from([0x4b, 0x53, 1]));
    expect(sealed.subarray(3, 11)).toEqual(masterKeyId(newKey));
    expect(keyring.keyId).toBe(masterKeyId(newKey).toString('hex'));
    expect(keyring.decrypt('saved-card-encryption', sealed).toString()).toBe('card 4111');
    expect(keyring.needsReseal(sealed)).toBe(false);
  });

  it('bind the header: a value relabelled with another key id, or another purpose, does not open', () => {
    const keyring = createKeyring(newKey, [oldKey]);
    const sealed = keyring.encrypt('webhook-secret-encryption', 'whsec_x');
    const relabelled = Buffer.concat([sealed.subarray(0, 3), masterKeyId(oldKey), sealed.subarray(11)]);
    expect(() => keyring.decrypt('webhook-secret-encryption', relabelled)).toThrow();
    expect(() => keyring.decrypt('saved-card-encryption', sealed)).toThrow();
  });

  it('values sealed by a previous key open with a keyring that holds it, and need re-sealing', () => {
    const before = createKeyring(oldKey).encrypt('signing-key-encryption', 'jwk');
    const during = createKeyring(newKey, [oldKey]);
    expect(during.decrypt('signing-key-encryption', before).toString()).toBe('jwk');
    expect(during.needsReseal(before)).toBe(true);
    const resealed = during.encrypt(
      'signing-key-encryption',
      during.decrypt('signing-key-encryption', before),
    );
    expect(during.needsReseal(resealed)).toBe(false);
    expect(createKeyring(newKey).decrypt('signing-key-encryption', resealed).toString()).toBe('jwk');
    // Without the previous key, the old value does not open.
    expect(() => createKeyring(newKey).decrypt('signing-key-encryption', before)).toThrow();
  });

  it('values older versions sealed (no header) still open, with the current or a previous key, and need re-sealing', () => {
    const legacyCurrent = sealUnversioned(newKey, 'idempotency-response-encryption', '{"ok":true}');
    const legacyPrevious = sealUnversioned(oldKey, 'idempotency-response-encryption', '{"old":true}');
    const keyring = createKeyring(newKey, [oldKey]);
    expect(keyring.decrypt('idempotency-response-encryption', legacyCurrent).toString()).toBe('{"ok":true}');
    expect(keyring.decrypt('idempotency-response-encryption', legacyPrevious).toString()).toBe(
      '{"old":true}',
    );
    expect(keyring.needsReseal(legacyCurrent)).toBe(true);
    expect(() =>
      createKeyring(randomBytes(32)).decrypt('idempotency-response-encryption', legacyCurrent),
    ).toThrow();
  });

  it('seal every value under its own IV, and a value sealed before the IV pool was refilled still opens', () => {
    const keyring = createKeyring(newKey);
    const first = keyring.encrypt('idempotency-response-encryption', '{"first":true}');
    // 1,000 IVs of 12 bytes: three refills of the 4 KiB pool they are drawn from.
    const sealed = Array.from({ length: 1000 }, (_, index) =>
      keyring.encrypt('idempotency-response-encryption', `{"n":${index}}`),
    );
    expect(new Set(sealed.map((value) => value.subarray(11, 23).toString('hex'))).size).toBe(1000);
    expect(keyring.decrypt('idempotency-response-encryption', first).toString()).toBe('{"first":true}');
    expect(keyring.decrypt('idempotency-response-encryption', sealed[999]!).toString()).toBe('{"n":999}');
  });

  it('KASSA_MASTER_KEY_PREVIOUS lists the keys being rotated away from', () => {
    const previous = [randomBytes(32).toString('base64'), randomBytes(32).toString('base64')];
    expect(
      loadConfig({ KASSA_ENV: 'test', KASSA_MASTER_KEY_PREVIOUS: previous.join(', ') }).previousMasterKeys,
    ).toEqual(previous);
    expect(() => loadConfig({ KASSA_ENV: 'test', KASSA_MASTER_KEY_PREVIOUS: 'c2hvcnQ=' })).toThrow(
      /KASSA_MASTER_KEY_PREVIOUS/,
    );
  });
});

describe('HMACs', () => {
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);
  const derived = (master: Buffer, purpose: string) =>
    Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `kassa:${purpose}`, 32));

  it('are HMAC-SHA256 under the purpose key, verified under the current and previous keys only', () => {
    const keyring = createKeyring(newKey, [oldKey]);
    const data = 'checkout:chk_1:order:3.1796641442';
    const expected = createHmac('sha256', derived(newKey, 'csrf')).update(data).digest();
    expect(keyring.hmac('csrf', data)).toEqual(expected);
    expect(keyring.hmac('csrf', Buffer.from(data))).toEqual(expected);
    expect(keyring.hmac('checkout-url-signature', data)).not.toEqual(expected);
    const previous = createHmac('sha256', derived(oldKey, 'csrf')).update(data).digest();
    expect(keyring.hmacCandidates('csrf', data)).toEqual([expected, previous]);
    expect(keyring.verifyHmac('csrf', data, expected)).toBe(true);
    expect(keyring.verifyHmac('csrf', data, previous)).toBe(true);
    expect(keyring.verifyHmac('csrf', `${data}0`, expected)).toBe(false);
    expect(keyring.verifyHmac('csrf', data, expected.subarray(0, 31))).toBe(false);
    expect(createKeyring(randomBytes(32)).verifyHmac('csrf', data, expected)).toBe(false);
  });
});

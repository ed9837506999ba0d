import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Every secret key Kassa uses is derived from one master key (HKDF-SHA256, one `purpose` label each), so an
 * operator configures and backs up a single value. Purposes are a closed list: a new use of key material
 * must name itself here.
 */
export type KeyPurpose =
  | 'signing-key-encryption'
  | 'card-fingerprint'
  | 'saved-card-encryption'
  | 'redirect-signature'
  | 'checkout-url-signature'
  | 'payment-link-signature'
  | 'csrf'
  | 'proxy-url-signature'
  | 'webhook-secret-encryption'
  | 'idempotency-response-encryption';

export type Keyring = {
  key(purpose: KeyPurpose): Buffer;
  hmac(purpose: KeyPurpose, data: string | Buffer): Buffer;
  encrypt(purpose: KeyPurpose, plaintext: Buffer | string): Buffer;
  decrypt(purpose: KeyPurpose, sealed: Buffer): Buffer;
};

const IV_BYTES = 12;
const TAG_BYTES = 16;

export function parseMasterKey(encoded: string): Buffer {
  const key = Buffer.from(encoded.trim(), 'base64');
  if (key.length < 32) throw new Error('The master key must be at least 32 bytes, base64-encoded.');
  return key;
}

export function generateMasterKey(): string {
  return randomBytes(32).toString('base64');
}

export function createKeyring(masterKey: Buffer): Keyring {
  const derived = new Map<KeyPurpose, Buffer>();
  function key(purpose: KeyPurpose): Buffer {
    let value = derived.get(purpose);
    if (!value) {
      value = Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), `kassa:${purpose}`, 32));
      derived.set(purpose, value);
    }
    return value;
  }
  return {
    key,
    hmac: (purpose, data) => createHmac('sha256', key(purpose)).update(data).digest(),
    /** AES-256-GCM; output is iv ‖ tag ‖ ciphertext, the purpose bound in as associated data. */
    encrypt(purpose, plaintext) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key(purpose), iv);
      cipher.setAAD(Buffer.from(purpose));
      const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), ciphertext]);
    },
    decrypt(purpose, sealed) {
      const iv = sealed.subarray(0, IV_BYTES);
      const tag = sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES);
      const decipher = createDecipheriv('aes-256-gcm', key(purpose), iv);
      decipher.setAAD(Buffer.from(purpose));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
    },
  };
}

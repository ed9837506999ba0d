import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, describeWeakMasterKey, loadConfig } from '../../../src/config.ts';

/**
 * The mode and the production settings are decided by `loadConfig` alone; these are its refusals
 * (docs/security.md, "Production fails closed"). The start-up behaviour of the real process is in
 * test/e2e/security/production-fails-closed.test.ts.
 */

const key = () => randomBytes(32).toString('base64');
const production = (extra: Record<string, string> = {}) => ({
  KASSA_ENV: 'production',
  KASSA_MASTER_KEY: key(),
  KASSA_PUBLIC_URL: 'https://pay.kassa.test',
  ...extra,
});

describe('the mode', () => {
  it.each(['prod', 'Production', 'PRODUCTION', 'dev', 'staging', 'testing'])(
    'refuses NODE_ENV=%s instead of running as development',
    (value) => {
      expect(() => loadConfig({ NODE_ENV: value })).toThrow(ConfigError);
      expect(() => loadConfig({ NODE_ENV: value })).toThrow(/NODE_ENV.*development, test or production/s);
    },
  );

  it.each(['prod', 'Production', 'dev'])('refuses KASSA_ENV=%s', (value) => {
    expect(() => loadConfig({ KASSA_ENV: value })).toThrow(/KASSA_ENV/);
  });

  it('takes the three modes from NODE_ENV, and KASSA_ENV over any NODE_ENV a tool has set', () => {
    expect(loadConfig({ NODE_ENV: 'test' }).environment).toBe('test');
    expect(loadConfig({ NODE_ENV: 'development' }).environment).toBe('development');
    expect(loadConfig({ NODE_ENV: 'production', ...production({ KASSA_ENV: '' }) }).environment).toBe(
      'production',
    );
    expect(loadConfig({ KASSA_ENV: 'development', NODE_ENV: 'staging' })).toMatchObject({
      environment: 'development',
      environmentSource: 'KASSA_ENV',
    });
  });

  it('with neither set, is development only while listening on loopback', () => {
    for (const host of [undefined, '127.0.0.1', '127.0.0.5', 'localhost', '::1', '[::1]']) {
      const config = loadConfig(host === undefined ? {} : { HOST: host });
      expect(config.environment, host).toBe('development');
      expect(config.environmentSource).toMatch(/loopback/);
    }
    for (const host of ['0.0.0.0', '::', '192.0.2.10', 'kassa.example.com']) {
      expect(() => loadConfig({ HOST: host }), host).toThrow(
        /KASSA_ENV: required when listening on a non-loopback/,
      );
    }
    expect(loadConfig({ HOST: '0.0.0.0', KASSA_ENV: 'development' }).environment).toBe('development');
  });
});

describe('the public URL in production', () => {
  it('is required', () => {
    expect(() => loadConfig(production({ KASSA_PUBLIC_URL: '' }))).toThrow(
      /KASSA_PUBLIC_URL: required in production/,
    );
  });

  it('must be https', () => {
    expect(() => loadConfig(production({ KASSA_PUBLIC_URL: 'http://pay.kassa.test' }))).toThrow(
      /KASSA_PUBLIC_URL: must be an https URL in production/,
    );
    expect(loadConfig(production()).publicUrl).toBe('https://pay.kassa.test');
  });

  it('may stay http outside production', () => {
    expect(
      loadConfig({ KASSA_ENV: 'development', KASSA_PUBLIC_URL: 'http://127.0.0.1:3000' }).publicUrl,
    ).toBe('http://127.0.0.1:3000');
  });
});

describe('the master key', () => {
  const b64 = (bytes: Buffer) => bytes.toString('base64');

  it('refuses 32 zero bytes, a constant, repeated patterns and a short key — in every mode', () => {
    const weak = {
      zeros: Buffer.alloc(32),
      constant: Buffer.alloc(32, 0x41),
      'two-byte pattern': Buffer.from('ab'.repeat(16)),
      'counting 0..7 repeated': Buffer.from(Array.from({ length: 32 }, (_, i) => i % 8)),
      'a 16-byte random block twice': (() => {
        const half = randomBytes(16);
        return Buffer.concat([half, half]);
      })(),
      'a typed pass phrase': Buffer.from('correct horse battery staple!!!!'),
      short: randomBytes(24),
    };
    for (const [name, bytes] of Object.entries(weak)) {
      expect(describeWeakMasterKey(b64(bytes)), name).not.toBeNull();
      for (const mode of ['development', 'test', 'production']) {
        expect(
          () => loadConfig({ ...production({ KASSA_ENV: mode }), KASSA_MASTER_KEY: b64(bytes) }),
          `${name} in ${mode}`,
        ).toThrow(/KASSA_MASTER_KEY/);
      }
    }
  });

  it('accepts real random keys (1000 of them) of 32 and 64 bytes', () => {
    for (let i = 0; i < 1000; i += 1) {
      expect(describeWeakMasterKey(key())).toBeNull();
    }
    expect(describeWeakMasterKey(randomBytes(64).toString('base64'))).toBeNull();
    expect(loadConfig(production()).masterKey).toBeDefined();
  });

  it('is required in production', () => {
    expect(() => loadConfig(production({ KASSA_MASTER_KEY: '' }))).toThrow(/KASSA_MASTER_KEY is required/);
  });
});

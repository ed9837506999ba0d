/** Secrets from files (`X_FILE`, docs/operations.md#configuration-from-files), read by `loadConfig`. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';

const folder = mkdtempSync(path.join(tmpdir(), 'kassa-secrets-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

function secretFile(name: string, content: string): string {
  const file = path.join(folder, name);
  writeFileSync(file, content, { mode: 0o600 });
  return file;
}

const MASTER_KEY = Buffer.alloc(32, 7).toString('base64');
const PEM = '-----BEGIN PRIVATE KEY-----\nMIIE…\n-----END PRIVATE KEY-----';

describe('_FILE secrets', () => {
  it('reads each secret from its file once, with the trailing line break removed', () => {
    const config = loadConfig({
      KASSA_ENV: 'production',
      KASSA_MASTER_KEY_FILE: secretFile('master', `${MASTER_KEY}\n`),
      DATABASE_URL_FILE: secretFile('db', 'postgres://kassa:s3cret@127.0.0.1:5432/kassa\r\n'),
      KASSA_JWT_PRIVATE_KEY_FILE: secretFile('jwt', `${PEM}\n`),
      KASSA_METRICS_TOKEN_FILE: secretFile('metrics', 'scrape-token-0123456789'),
    });
    expect(config.masterKey).toBe(MASTER_KEY);
    expect(config.databaseUrl).toBe('postgres://kassa:s3cret@127.0.0.1:5432/kassa');
    expect(config.jwtPrivateKeyPem).toBe(PEM);
    expect(config.metricsToken).toBe('scrape-token-0123456789');
  });

  it('validates a value from a file like the variable itself', () => {
    expect(() =>
      loadConfig({ KASSA_ENV: 'test', DATABASE_URL_FILE: secretFile('bad-db', 'mysql://x\n') }),
    ).toThrow(/DATABASE_URL must be a postgres:\/\/ URL/);
    expect(() =>
      loadConfig({ KASSA_ENV: 'test', KASSA_METRICS_TOKEN_FILE: secretFile('short', 'short\n') }),
    ).toThrow(/at least 16 characters/);
  });

  it('refuses X and X_FILE together', () => {
    expect(() =>
      loadConfig({
        KASSA_ENV: 'test',
        KASSA_MASTER_KEY: MASTER_KEY,
        KASSA_MASTER_KEY_FILE: secretFile('master2', MASTER_KEY),
      }),
    ).toThrow(
      new ConfigError(
        'Invalid configuration:\n  KASSA_MASTER_KEY and KASSA_MASTER_KEY_FILE are both set; set only one',
      ),
    );
  });

  it('names the variable and the path of a file it cannot read, or an empty one, never a content', () => {
    const missing = path.join(folder, 'absent');
    expect(() => loadConfig({ KASSA_ENV: 'test', KASSA_MASTER_KEY_FILE: missing })).toThrow(
      `KASSA_MASTER_KEY_FILE: cannot read ${missing} (ENOENT)`,
    );
    const empty = secretFile('empty', '\n');
    expect(() => loadConfig({ KASSA_ENV: 'test', DATABASE_URL_FILE: empty })).toThrow(
      `DATABASE_URL_FILE: ${empty} is empty`,
    );
    // Production still requires the master key when neither form is set.
    expect(() => loadConfig({ KASSA_ENV: 'production' })).toThrow(/KASSA_MASTER_KEY is required/);
  });
});

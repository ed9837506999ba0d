import { z } from 'zod';
import { ConfigError, documented, type Environment } from './variables.ts';

/**
 * The mode and the keys: which environment Kassa runs as, the master key (and those being rotated away from),
 * token signing, credential bookkeeping — and the settings production must have
 * (docs/security.md, "Production fails closed"), kept together on purpose.
 */

export const securityVariables = {
  KASSA_ENV: documented(z.enum(['development', 'production', 'test']).optional(), {
    description:
      '`development`, `test` or `production` (exactly); any other value is refused. With neither this nor `NODE_ENV` set Kassa runs as development only when `HOST` is a loopback address, and otherwise refuses to start. `production` enforces a configured master key, an https public URL and the strict egress policy ([docs/security.md](docs/security.md#production-fails-closed))',
    defaultText: 'from `NODE_ENV`; else `development` on loopback, none otherwise',
  }),
  NODE_ENV: documented(z.string().optional(), {
    description:
      'read only when `KASSA_ENV` is not set (tools set it for their own reasons): `development`, `test` or `production`, any other value is refused',
  }),
  KASSA_MASTER_KEY: documented(z.string().optional(), {
    description:
      '32+ random bytes, base64 (`openssl rand -base64 32`): every encryption and signing key derives from it; constant or patterned keys are refused',
    defaultText: 'generated in `$KASSA_DATA_DIR/master.key` (development only)',
  }),
  KASSA_MASTER_KEY_PREVIOUS: documented(z.string().optional(), {
    description:
      'comma-separated master keys being rotated away from: they only open values they sealed ([docs/security.md](docs/security.md#production-fails-closed))',
  }),
  KASSA_JWT_PRIVATE_KEY: documented(z.string().optional(), {
    description: 'PKCS#8 PEM RSA key to sign access tokens',
    defaultText: 'generated and stored (encrypted) on first start',
  }),
  KASSA_ACCESS_TOKEN_TTL_SECONDS: documented(z.coerce.number().int().min(60).max(86_400).default(1800), {
    description: 'lifetime of the access tokens `POST /v1/oauth/tokens` issues (60 … 86400)',
  }),
  KASSA_CREDENTIAL_USAGE_FLUSH_SECONDS: documented(z.coerce.number().min(0.05).max(300).default(5), {
    description:
      "how often each process writes the `last_used_at` of the API keys and OAuth clients it saw (one UPDATE per flush, also on shutdown); the value's accuracy",
  }),
};

/** The values the mode and the production checks read. */
type SecuritySettings = {
  HOST?: string | undefined;
  KASSA_PUBLIC_URL?: string | undefined;
  KASSA_ENV?: Environment | undefined;
  NODE_ENV?: string | undefined;
  KASSA_MASTER_KEY?: string | undefined;
};

const ENVIRONMENTS: readonly Environment[] = ['development', 'test', 'production'];

/**
 * The mode, from `KASSA_ENV`, else `NODE_ENV`, else the listening address. A misspelt value (`prod`,
 * `Production`) used to mean development — loopback egress, the demo shop, a master key on disk — so any
 * value outside the three is refused. `KASSA_ENV` wins over `NODE_ENV`, so a tool that sets `NODE_ENV` to
 * something of its own (vitest sets `test`, bundlers set `development` / `production`) can be overridden.
 * With neither set, development is assumed only while the gateway listens on loopback: a gateway reachable
 * from other machines must say what it is.
 */
export function resolveEnvironment(values: SecuritySettings): {
  environment: Environment;
  environmentSource: string;
} {
  if (values.KASSA_ENV !== undefined)
    return { environment: values.KASSA_ENV, environmentSource: 'KASSA_ENV' };
  if (values.NODE_ENV !== undefined) {
    if (!(ENVIRONMENTS as readonly string[]).includes(values.NODE_ENV)) {
      throw new ConfigError(
        `Invalid configuration:\n  NODE_ENV: "${values.NODE_ENV}" is not a Kassa mode; use development, test or ` +
          'production (exactly, lower case), or set KASSA_ENV, which takes precedence over NODE_ENV',
      );
    }
    return { environment: values.NODE_ENV as Environment, environmentSource: 'NODE_ENV' };
  }
  if (values.HOST === undefined || isLoopbackHost(values.HOST)) {
    return {
      environment: 'development',
      environmentSource: 'default: KASSA_ENV unset, listening on loopback',
    };
  }
  throw new ConfigError(
    `Invalid configuration:\n  KASSA_ENV: required when listening on a non-loopback address (HOST=${values.HOST}); ` +
      'set KASSA_ENV=production (or development, on a trusted network)',
  );
}

function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}

/** Settings production must have; each is a configuration error at start-up rather than a quiet default. */
export function checkProductionFailsClosed(values: SecuritySettings, environment: Environment) {
  if (values.KASSA_MASTER_KEY !== undefined) {
    const weakness = describeWeakMasterKey(values.KASSA_MASTER_KEY);
    if (weakness) throw new ConfigError(`KASSA_MASTER_KEY ${weakness}`);
  }
  if (environment !== 'production') return;
  if (!values.KASSA_MASTER_KEY) {
    throw new ConfigError('KASSA_MASTER_KEY is required in production (32 random bytes, base64).');
  }
  // Every URL Kassa hands out (hosted pages, payment links, token issuer) derives from the public URL; the
  // old default (http://localhost) broke them all, and plain http exposes checkout pages and tokens.
  if (values.KASSA_PUBLIC_URL === undefined) {
    throw new ConfigError(
      'Invalid configuration:\n  KASSA_PUBLIC_URL: required in production: the https URL shoppers and ' +
        'merchants reach Kassa at (e.g. https://pay.example.com)',
    );
  }
  if (new URL(values.KASSA_PUBLIC_URL).protocol !== 'https:') {
    throw new ConfigError(
      `Invalid configuration:\n  KASSA_PUBLIC_URL: must be an https URL in production (got ${values.KASSA_PUBLIC_URL}); ` +
        'terminate TLS in front of Kassa and give its https address',
    );
  }
}

/**
 * Why a configured master key is too weak, or null. 32 zero bytes, a repeated pattern or a pass phrase
 * typed into base64 all decode to ≥ 32 bytes yet carry little secret. A key from `openssl rand -base64 32`
 * has about 26 distinct values among its 32 bytes (the chance of fewer than 16 is below 10⁻¹²), and no
 * repeating period; both tests are cheap and refuse only keys no random source produces.
 */
export function describeWeakMasterKey(encoded: string): string | null {
  const key = Buffer.from(encoded.trim(), 'base64');
  if (key.length < 32) {
    return 'must be at least 32 bytes, base64-encoded (make one with `openssl rand -base64 32`)';
  }
  const distinct = new Set(key).size;
  if (distinct < MIN_DISTINCT_MASTER_KEY_BYTES) {
    return (
      `looks constant or patterned (${distinct} distinct byte values in ${key.length} bytes); ` +
      'use 32 random bytes (`openssl rand -base64 32`)'
    );
  }
  for (let period = 1; period <= key.length / 2; period += 1) {
    if (key.subarray(period).equals(key.subarray(0, key.length - period))) {
      return `repeats every ${period} bytes; use 32 random bytes (\`openssl rand -base64 32\`)`;
    }
  }
  return null;
}

const MIN_DISTINCT_MASTER_KEY_BYTES = 16;

/** `KASSA_MASTER_KEY_PREVIOUS`: comma-separated base64 keys (each at least 32 bytes). */
export function splitPreviousMasterKeys(value: string | undefined): string[] {
  const keys = (value ?? '')
    .split(',')
    .map((key) => key.trim())
    .filter(Boolean);
  for (const key of keys) {
    if (Buffer.from(key, 'base64').length < 32) {
      throw new ConfigError(
        'Invalid configuration:\n  KASSA_MASTER_KEY_PREVIOUS: each key must be at least 32 bytes, base64',
      );
    }
  }
  return keys;
}

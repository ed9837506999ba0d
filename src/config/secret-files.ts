import { readFileSync } from 'node:fs';
import type { EnvSchema } from './env-schema.ts';
import { ConfigError } from './variables.ts';

/**
 * Secrets that may come from a file instead (`<NAME>_FILE=/run/secrets/…`, the Docker / Kubernetes
 * convention): read once at load, one trailing line break removed. Setting both is an error.
 */
export const FILE_SECRETS = [
  'DATABASE_URL',
  'KASSA_MASTER_KEY',
  'KASSA_JWT_PRIVATE_KEY',
  'KASSA_METRICS_TOKEN',
] as const satisfies readonly (keyof typeof EnvSchema.shape)[];

/** `X_FILE` → the file's content as `X`; a ConfigError names the variable and path, never the content. */
export function readSecretFiles(env: Record<string, string>): Record<string, string> {
  const resolved = { ...env };
  for (const name of FILE_SECRETS) {
    const fileVariable = `${name}_FILE`;
    const file = env[fileVariable];
    if (file === undefined) continue;
    if (env[name] !== undefined) {
      throw new ConfigError(
        `Invalid configuration:\n  ${name} and ${fileVariable} are both set; set only one`,
      );
    }
    let content: string;
    try {
      content = readFileSync(file, 'utf8');
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new ConfigError(`Invalid configuration:\n  ${fileVariable}: cannot read ${file} (${reason})`);
    }
    content = content.replace(/\r?\n$/, '');
    if (content === '') throw new ConfigError(`Invalid configuration:\n  ${fileVariable}: ${file} is empty`);
    resolved[name] = content;
    delete resolved[fileVariable];
  }
  return resolved;
}

import { z } from 'zod';

/**
 * What every area of the configuration (the other files of this folder) shares: the error a bad setting
 * raises, the mode, and how a variable carries its README documentation.
 */

export class ConfigError extends Error {}

export type Environment = 'development' | 'production' | 'test';

export const booleanFlag = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'])
  .transform((value) => ['1', 'true', 'yes', 'on'].includes(value));

/**
 * What the README's configuration table says of a variable. `npm run docs:config` (scripts/config-table.ts)
 * writes the table from these, and test/unit/config-table.test.ts fails when README.md and the schema
 * differ: a new variable needs its description here. `defaultText` is for defaults the schema cannot state
 * (derived, or depending on the environment); otherwise the schema's `.default()` is shown.
 */
export type VariableDocs = { description: string; defaultText?: string };
export const documented = <T extends z.ZodType>(schema: T, docs: VariableDocs): T => schema.meta(docs);

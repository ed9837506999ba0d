import type { AnyProcessorModule } from '../../connectors/processor-modules.ts';
import { isCurrencyCode } from '../../lib/currencies.ts';
import type { FieldError } from '../../lib/errors.ts';
import type { MerchantScope } from './processor-account.types.ts';

/**
 * The checks of a processor account's fields before it is stored (docs/processors.md), each answering the
 * field errors it finds so that a request learns every problem at once: credentials (by the processor's module,
 * and against the Kassa credential's mode), currencies, multiple captures, the API base URL (metadata follows the rule every object shares: src/lib/metadata.ts).
 */

/** Validates `credentials` with the module and the mode rules; errors point under `/credentials`. */
export function checkCredentials(
  module: AnyProcessorModule,
  credentials: Record<string, unknown>,
  scope: MerchantScope,
): { credentials: Record<string, string>; errors: FieldError[] } {
  const parsed = module.credentialsSchema.safeParse(credentials);
  if (!parsed.success) {
    return {
      credentials: {},
      errors: parsed.error.issues.map((issue) => ({
        pointer: ['/credentials', ...issue.path.map(String)].join('/'),
        code: 'invalid_credentials',
        message: issue.message,
      })),
    };
  }
  const checked = parsed.data;
  const errors: FieldError[] = [];
  const implied = module.impliedLivemode(checked);
  if (module.name === 'sandbox' && scope.livemode) {
    errors.push({
      pointer: '/processor',
      code: 'livemode_mismatch',
      message:
        'must not be the sandbox in live mode (it never moves real money): connect it with a test-mode credential',
    });
  } else if (implied !== null && implied !== scope.livemode) {
    const field = module.secretFields[0];
    errors.push({
      pointer: field ? `/credentials/${field}` : '/credentials',
      code: 'livemode_mismatch',
      message: implied
        ? 'is a live credential: connect it with a live Kassa credential'
        : 'is a test credential: connect it with a test-mode Kassa credential',
    });
  }
  if (scope.livemode) {
    const missing = module.liveRequirement?.(checked);
    if (missing) {
      errors.push({
        pointer: `/credentials/${missing.field}`,
        code: 'required_for_live',
        message: missing.message,
      });
    }
  }
  return { credentials: checked, errors };
}

export function checkCurrencies(currencies: string[] | null | undefined): {
  currencies: string[] | null | undefined;
  errors: FieldError[];
} {
  if (currencies === undefined || currencies === null) return { currencies, errors: [] };
  const upper = [...new Set(currencies.map((code) => code.toUpperCase()))];
  const errors = upper
    .filter((code) => !isCurrencyCode(code))
    .map((code) => ({
      pointer: '/currencies',
      code: 'invalid_currency' as const,
      message: `must be ISO 4217 currency codes; got "${code}"`,
    }));
  return { currencies: upper, errors };
}

/**
 * The account's `multiple_captures`: Adyen's is the merchant's word (default false); a processor that fixes it
 * takes only its own value, so an answer never claims captures the connector would refuse (or the reverse).
 */
export function checkMultipleCaptures(
  module: AnyProcessorModule,
  value: boolean | undefined,
): { value: boolean; error: FieldError | null } {
  const fixed = module.multipleCaptures;
  if (fixed === 'account_setting') return { value: value ?? false, error: null };
  if (value === undefined || value === fixed) return { value: fixed, error: null };
  return {
    value: fixed,
    error: {
      pointer: '/multiple_captures',
      code: 'unsupported',
      message: fixed
        ? `must be true: ${module.name} accounts always take several partial captures`
        : `must be false: ${module.name} accounts take one capture per payment (a partial capture releases the rest)`,
    },
  };
}

export function checkApiBaseUrl(
  value: string | null | undefined,
  environment: 'development' | 'production' | 'test',
): FieldError | null {
  if (value === undefined || value === null) return null;
  if (environment === 'production') {
    return {
      pointer: '/api_base_url',
      code: 'not_allowed_in_production',
      message:
        'must be left out on a production gateway, which talks only to the processor itself (it points a connector at another host, such as a local fake)',
    };
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { pointer: '/api_base_url', code: 'invalid_url', message: 'must be an absolute URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { pointer: '/api_base_url', code: 'invalid_url', message: 'must be an http:// or https:// URL' };
  }
  return null;
}

import { checkOutboundUrl, type CompiledEgressPolicy } from '../../egress/index.ts';
import type { FieldError } from '../../lib/errors.ts';
import { checkCallbackUrl, checkRedirectUrl } from '../../lib/merchant-urls.ts';
import type { CallbackUrls } from '../merchants/merchant.types.ts';
import { CALLBACK_NAMES } from './checkout.schemas.ts';

/**
 * Merchant URLs are untrusted (house rule 7), checked when they are registered:
 * - redirect URLs (the shopper's browser goes there): absolute https (http in test mode), no credentials,
 *   no control characters, no scheme-relative or scheme-only tricks — `checkRedirectUrl`;
 * - callback URLs (Kassa's servers call them): the same plus no fragment, and the egress policy's verdict on
 *   the host as far as it can be judged without DNS (literal private / link-local addresses, `localhost` in
 *   production) — `checkCallbackUrl` + `checkOutboundUrl`. Names are checked again after resolution on send.
 */

/** Why a redirect URL is refused (a phrase completing "<field> …"), or null. */
export function refuseRedirectUrl(url: string, livemode: boolean): string | null {
  return checkRedirectUrl(url, { livemode });
}

/** Why a callback URL is refused, with a code (`invalid_url` or `url_not_allowed`), or null. */
export function refuseCallbackUrl(
  url: string,
  livemode: boolean,
  egressPolicy: CompiledEgressPolicy,
): { code: 'invalid_url' | 'url_not_allowed'; message: string } | null {
  const reason = checkCallbackUrl(url, { livemode });
  if (reason) return { code: 'invalid_url', message: reason };
  const refusal = checkOutboundUrl(url, egressPolicy);
  if (refusal)
    return { code: 'url_not_allowed', message: `is not an allowed destination: ${refusal.message}` };
  return null;
}

/**
 * The effective callbacks of a checkout: the merchant's defaults, overridden per name by the request (a URL
 * replaces the default, null removes it).
 */
export function mergeCallbacks(
  defaults: CallbackUrls,
  requested: Partial<Record<(typeof CALLBACK_NAMES)[number], string | null>> | undefined,
): { callbacks: CallbackUrls; fromDefaults: Set<string> } {
  const callbacks: CallbackUrls = {};
  const fromDefaults = new Set<string>();
  for (const name of CALLBACK_NAMES) {
    const override = requested?.[name];
    if (override === null) continue;
    if (typeof override === 'string') callbacks[name] = override;
    else if (typeof defaults[name] === 'string') {
      callbacks[name] = defaults[name];
      fromDefaults.add(name);
    }
  }
  return { callbacks, fromDefaults };
}

export function checkCheckoutUrls(
  input: {
    completedRedirectUrl: string;
    canceledRedirectUrl: string;
    callbacks: CallbackUrls;
    fromDefaults: Set<string>;
  },
  livemode: boolean,
  egressPolicy: CompiledEgressPolicy,
): FieldError[] {
  const errors: FieldError[] = [];
  for (const [field, url] of [
    ['completed_redirect_url', input.completedRedirectUrl],
    ['canceled_redirect_url', input.canceledRedirectUrl],
  ] as const) {
    const reason = refuseRedirectUrl(url, livemode);
    if (reason) errors.push({ pointer: `/${field}`, code: 'invalid_url', message: reason });
  }
  for (const name of CALLBACK_NAMES) {
    const url = input.callbacks[name];
    if (url === undefined) continue;
    const refusal = refuseCallbackUrl(url, livemode, egressPolicy);
    if (!refusal) continue;
    errors.push({
      pointer: `/callbacks/${name}`,
      code: refusal.code,
      message: input.fromDefaults.has(name)
        ? `${refusal.message} (the value of the merchant's default_callbacks.${name}); send callbacks.${name} (a URL, or null for none) or fix the default`
        : refusal.message,
    });
  }
  return errors;
}

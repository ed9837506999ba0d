import type { FastifyRequest } from 'fastify';
import type { ShopperBrowser } from '../../connectors/connector.ts';
import { detectDevice, type Device } from '../../modules/payment-methods/eligibility.ts';

/** What the hosted page reads of the shopper's request besides the form: browser, device, return parameters. */

/** What a processor's 3-D Secure needs to know of the shopper's browser (Adyen's `browserInfo`). */
export function shopperBrowserOf(request: FastifyRequest, locale: string): ShopperBrowser {
  const header = (name: string) => {
    const value = request.headers[name];
    return typeof value === 'string' && value !== '' ? value.slice(0, 512) : undefined;
  };
  const language = header('accept-language')?.split(',')[0]?.split(';')[0]?.trim();
  const shopper: ShopperBrowser = { ipAddress: request.ip, language: language || locale };
  const userAgent = header('user-agent');
  const acceptHeader = header('accept');
  if (userAgent) shopper.userAgent = userAgent;
  if (acceptHeader) shopper.acceptHeader = acceptHeader;
  return shopper;
}

/** The shopper's device class, for the payment methods' eligibility rules. */
export function deviceOf(request: FastifyRequest): Device {
  const userAgent = request.headers['user-agent'];
  return detectDevice(typeof userAgent === 'string' ? userAgent : undefined);
}

/**
 * The parameters a processor appended to the return URL after 3-D Secure (Adyen's `redirectResult`): string
 * values only, bounded, for the connector that finishes the action with them.
 */
export function returnParametersOf(query: unknown): Record<string, string> {
  const parameters: Record<string, string> = {};
  if (typeof query !== 'object' || query === null) return parameters;
  for (const [name, value] of Object.entries(query).slice(0, 20)) {
    if (typeof value === 'string' && name.length <= 100 && value.length <= 20_000) parameters[name] = value;
  }
  return parameters;
}

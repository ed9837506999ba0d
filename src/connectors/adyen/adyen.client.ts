import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import type { EgressClient } from '../../egress/index.ts';
import { ConnectorError } from '../connector.ts';
import { connectorErrorOfEgressFailure } from '../egress-failure.ts';

/**
 * A small typed client for the part of Adyen's Checkout API v71 that Kassa uses. The shapes below are the
 * fields Kassa sends and reads, named as in Adyen's OpenAPI document (the tests validate every request
 * against it). Every call goes through Kassa's egress client: its policy, timeouts and response cap apply.
 */

export type AdyenAmount = { currency: string; value: number };

export type AdyenPaymentRequest = {
  amount: AdyenAmount;
  merchantAccount: string;
  reference: string;
  returnUrl: string;
  shopperInteraction: 'Ecommerce';
  channel: 'Web';
  paymentMethod: {
    type: 'scheme';
    number: string;
    expiryMonth: string;
    expiryYear: string;
    cvc?: string;
    holderName: string;
  };
  additionalData: Record<string, string>;
  authenticationData: { threeDSRequestData: { nativeThreeDS: 'disabled' } };
  browserInfo?: {
    acceptHeader: string;
    userAgent: string;
    language: string;
    colorDepth: number;
    javaEnabled: boolean;
    screenHeight: number;
    screenWidth: number;
    timeZoneOffset: number;
  };
  shopperIP?: string;
  shopperLocale?: string;
};

export type AdyenAction = {
  type: string;
  url?: string;
  method?: string;
  paymentMethodType?: string;
  data?: Record<string, string>;
};

export type AdyenPaymentResponse = {
  resultCode?: string;
  pspReference?: string;
  merchantReference?: string;
  amount?: AdyenAmount;
  refusalReason?: string;
  refusalReasonCode?: string;
  action?: AdyenAction;
};

export type AdyenModificationResponse = {
  status: 'received';
  pspReference: string;
  paymentPspReference: string;
  merchantAccount: string;
  amount?: AdyenAmount;
};

export type AdyenServiceError = {
  status?: number;
  errorCode?: string;
  message?: string;
  errorType?: string;
  pspReference?: string;
};

/** Adyen keeps an idempotency key for at least 7 days; a key may be up to 64 characters. */
const MAX_IDEMPOTENCY_KEY_LENGTH = 64;
/** "Request already processed or in progress": another request with the key is still running. */
const IN_PROGRESS_ERROR_CODE = '704';
const IN_PROGRESS_RETRIES = 20;
const IN_PROGRESS_DELAY_MS = 50;

export type AdyenClient = {
  post<T>(path: string, body: unknown, idempotencyKey: string): Promise<T>;
};

export type AdyenClientOptions = {
  connectorId: string;
  baseUrl: string;
  apiKey: string;
  egress: EgressClient;
};

/** Kassa's key as Adyen takes it: as is when it fits, else a digest of it (same key → same digest). */
export function adyenIdempotencyKey(key: string): string {
  if (key.length <= MAX_IDEMPOTENCY_KEY_LENGTH && /^[\x21-\x7e]+$/.test(key)) return key;
  return `kassa-${createHash('sha256').update(key, 'utf8').digest('base64url')}`;
}

export function createAdyenClient(options: AdyenClientOptions): AdyenClient {
  const { connectorId } = options;
  const fail = (
    code: ConnectorError['code'],
    message: string,
    extra: { cause?: unknown; retryable?: boolean } = {},
  ) => new ConnectorError(code, message, { connectorId, ...extra });

  async function send(path: string, body: string, idempotencyKey: string) {
    try {
      return await options.egress.request({
        url: `${options.baseUrl}${path}`,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          'x-api-key': options.apiKey,
          'idempotency-key': adyenIdempotencyKey(idempotencyKey),
        },
        body,
      });
    } catch (error) {
      throw connectorErrorOfEgressFailure(error, { processor: 'Adyen', connectorId });
    }
  }

  return {
    async post<T>(path: string, payload: unknown, idempotencyKey: string): Promise<T> {
      const body = JSON.stringify(payload);
      for (let attempt = 0; ; attempt++) {
        const response = await send(path, body, idempotencyKey);
        const parsed = parseJson(response.body);
        if (response.status >= 200 && response.status < 300) {
          if (parsed === undefined || response.truncated) {
            throw fail('timeout', 'Adyen answered with a body that could not be read', { retryable: true });
          }
          return parsed as T;
        }
        const serviceError = (parsed ?? {}) as AdyenServiceError;
        if (
          response.status === 422 &&
          serviceError.errorCode === IN_PROGRESS_ERROR_CODE &&
          attempt < IN_PROGRESS_RETRIES
        ) {
          // The same key is being processed by a concurrent call: wait for its stored answer.
          await sleep(IN_PROGRESS_DELAY_MS * Math.min(attempt + 1, 5));
          continue;
        }
        throw errorForStatus(path, response.status, serviceError);
      }
    },
  };

  function errorForStatus(path: string, status: number, error: AdyenServiceError): ConnectorError {
    const detail = `${error.errorCode ?? status}${error.message ? `: ${error.message}` : ''}`;
    if (status >= 500) return fail('unavailable', `Adyen failed to process the request (${detail})`);
    if (status === 401) {
      return fail('processor_error', 'Adyen refused the API key of this processor account (401)', {
        retryable: false,
      });
    }
    if (status === 403 && path === '/payments') {
      // 010 "Not allowed": the web service user lacks a role, most often the PCI role for raw card fields.
      return fail(
        'processor_error',
        `Adyen refused the request as not allowed for this API credential (${detail}). Sending card numbers ` +
          'needs the PCI role for unencrypted card fields ("API PCI Payments role") on the web service user; it is a ' +
          'configuration of the Adyen account, not a decline',
        { retryable: false },
      );
    }
    if (status === 403) {
      return fail(
        'processor_error',
        `Adyen refused the request as not allowed for this API credential (${detail})`,
        {
          retryable: false,
        },
      );
    }
    if (status === 422 && error.errorCode === IN_PROGRESS_ERROR_CODE) {
      return fail('timeout', 'Adyen kept processing a request with the same idempotency key', {
        retryable: true,
      });
    }
    return fail('invalid_request', `Adyen refused the request (${detail})`, { retryable: false });
  }
}

function parseJson(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

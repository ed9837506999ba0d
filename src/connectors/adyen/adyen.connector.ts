import { createHash } from 'node:crypto';

import {
  ConnectorError,
  type AuthorizeRequest,
  type AuthorizeResult,
  type CaptureRequest,
  type Connector,
  type ConnectorPaymentStatus,
  type OperationResult,
  type RefundRequest,
  type SaleRequest,
  type SaleResult,
  type VoidRequest,
} from '../connector.ts';
import type { ProcessorConnectorContext } from '../processor.ts';
import {
  createAdyenClient,
  type AdyenAmount,
  type AdyenClient,
  type AdyenModificationResponse,
  type AdyenPaymentRequest,
  type AdyenPaymentResponse,
} from './adyen.client.ts';
import type { AdyenCredentials } from './adyen.credentials.ts';
import { declineCodeOf } from './adyen.mapping.ts';

export const ADYEN_TEST_BASE_URL = 'https://checkout-test.adyen.com/v71';

/** The live Checkout endpoint of a merchant's company account (Customer Area › Developers › API URLs). */
export function adyenLiveBaseUrl(prefix: string): string {
  return `https://${prefix}-checkout-live.adyenpayments.com/checkout/v71`;
}

/** Where the connector sends its calls: a configured base (a local fake) + `/v71`, or Adyen's own hosts. */
export function adyenBaseUrl(credentials: AdyenCredentials, context: ProcessorConnectorContext): string {
  if (context.apiBaseUrl) return `${context.apiBaseUrl.replace(/\/+$/, '')}/v71`;
  if (!context.livemode) return ADYEN_TEST_BASE_URL;
  if (!credentials.live_url_prefix) {
    throw new Error('An Adyen account in live mode needs its live_url_prefix');
  }
  return adyenLiveBaseUrl(credentials.live_url_prefix);
}

/** Adyen's pspReference: 16 characters today; anything else never reaches a URL path. */
const PSP_REFERENCE = /^[A-Za-z0-9]{8,64}$/;

/**
 * Adyen's Checkout API v71 behind Kassa's `Connector`.
 *
 * - Payments are `scheme` cards with the raw card fields (the merchant's API credential needs Adyen's PCI role
 *   for unencrypted card data), always with manual capture (`additionalData.manualCapture`): Kassa captures.
 *   A sale is therefore an authorization that answers `authorized`; the caller captures with the sale's capture
 *   key, as the connector contract allows for a processor that cannot capture at once.
 * - 3-D Secure uses Adyen's redirect flow (`nativeThreeDS: disabled`), because the hosted page runs no script;
 *   `completeAction` finishes it with `/payments/details`.
 * - Captures, cancels and refunds are asynchronous at Adyen: they answer `received`, reported as `pending` with
 *   the modification's pspReference; the CAPTURE / CANCELLATION / REFUND webhook decides.
 * - Adyen's Checkout API has no call that reads a payment: `getPaymentStatus` and `lookupPayment` cannot be
 *   answered and refuse with a non-retryable `processor_error`. For Adyen, webhooks are the source of truth.
 */
export function createAdyenConnector(
  credentials: AdyenCredentials,
  context: ProcessorConnectorContext,
): Connector {
  const connectorId = context.accountId;
  const client: AdyenClient = createAdyenClient({
    connectorId,
    baseUrl: adyenBaseUrl(credentials, context),
    apiKey: credentials.api_key,
    egress: context.egress,
  });
  const merchantAccount = credentials.merchant_account;

  const invalid = (message: string) => new ConnectorError('invalid_request', message, { connectorId });

  function checkAmount(amount: number, currency: string): AdyenAmount {
    if (!Number.isSafeInteger(amount) || amount <= 0) {
      throw invalid('The amount must be a positive integer of minor units');
    }
    if (!/^[A-Z]{3}$/.test(currency)) throw invalid('The currency must be an upper-case ISO 4217 code');
    // Adyen takes minor units as Kassa keeps them.
    return { currency, value: amount };
  }

  function checkReference(reference: string): string {
    if (!PSP_REFERENCE.test(reference))
      throw invalid(`"${reference.slice(0, 40)}" is not an Adyen pspReference`);
    return reference;
  }

  function paymentRequest(request: AuthorizeRequest): AdyenPaymentRequest {
    const amount = checkAmount(request.amount, request.currency);
    if (request.livemode !== context.livemode) {
      throw invalid(
        `This Adyen account is in ${context.livemode ? 'live' : 'test'} mode; the payment is not`,
      );
    }
    let returnUrl: URL;
    try {
      returnUrl = new URL(request.returnUrl);
    } catch {
      throw invalid('The return URL must be absolute');
    }
    if (request.method.type !== 'card') throw invalid('The Adyen connector takes cards only');
    const { card } = request.method;
    if (card.storedCredential) throw invalid('Saved cards are charged through the sandbox only');
    const body: AdyenPaymentRequest = {
      amount,
      merchantAccount,
      reference: request.paymentId,
      returnUrl: returnUrl.href,
      shopperInteraction: 'Ecommerce',
      channel: 'Web',
      paymentMethod: {
        type: 'scheme',
        number: card.number,
        expiryMonth: String(card.expMonth).padStart(2, '0'),
        expiryYear: String(card.expYear),
        ...(card.cvc ? { cvc: card.cvc } : {}),
        holderName: card.holderName,
      },
      // Kassa captures itself, whatever the merchant account's default capture delay says.
      additionalData: { manualCapture: 'true' },
      authenticationData: { threeDSRequestData: { nativeThreeDS: 'disabled' } },
    };
    const shopper = request.shopper;
    if (shopper?.ipAddress) body.shopperIP = shopper.ipAddress;
    if (shopper?.language) body.shopperLocale = shopper.language;
    if (shopper?.userAgent && shopper.acceptHeader) {
      // The page runs no script, so what only a script can read (screen, colour depth, time zone) is fixed;
      // Adyen's redirect page collects the device data itself for 3-D Secure 2.
      body.browserInfo = {
        acceptHeader: shopper.acceptHeader,
        userAgent: shopper.userAgent,
        language: shopper.language ?? 'en',
        colorDepth: 24,
        javaEnabled: false,
        screenHeight: 1080,
        screenWidth: 1920,
        timeZoneOffset: 0,
      };
    }
    return body;
  }

  /** A replayed answer for another request means Kassa reused an idempotency key: a bug, never a charge. */
  function checkReplay(
    response: { merchantReference?: string; amount?: AdyenAmount },
    paymentId: string,
    amount?: AdyenAmount,
  ) {
    if (response.merchantReference !== undefined && response.merchantReference !== paymentId) {
      throw invalid('The idempotency key was used before for another payment');
    }
    if (
      amount &&
      response.amount &&
      (response.amount.value !== amount.value || response.amount.currency !== amount.currency)
    ) {
      throw invalid('The idempotency key was used before for another amount');
    }
  }

  function toAuthorizeResult(response: AdyenPaymentResponse, fallbackReference?: string): AuthorizeResult {
    const connectorReference = response.pspReference ?? fallbackReference;
    if (!connectorReference) {
      throw new ConnectorError(
        'processor_error',
        `Adyen answered ${response.resultCode ?? 'nothing'} without a pspReference`,
        {
          connectorId,
          retryable: false,
        },
      );
    }
    switch (response.resultCode) {
      case 'Authorised':
        return { status: 'authorized', connectorReference };
      case 'Refused':
        return {
          status: 'declined',
          connectorReference,
          declineCode: declineCodeOf({ code: response.refusalReasonCode, reason: response.refusalReason }),
          message: `The payment was refused${response.refusalReason ? ` (${response.refusalReason})` : ''}`,
        };
      case 'Cancelled':
      case 'Error':
        return {
          status: 'declined',
          connectorReference,
          declineCode: 'payment_rejected',
          message: `Adyen could not complete the payment${response.refusalReason ? ` (${response.refusalReason})` : ''}`,
        };
      case 'Pending':
      case 'Received':
        return { status: 'pending', connectorReference };
      case 'RedirectShopper': {
        const action = response.action;
        if (action?.type === 'redirect' && action.url && (action.method ?? 'GET').toUpperCase() === 'GET') {
          return {
            status: 'requires_action',
            connectorReference,
            action: { type: 'redirect', url: action.url },
          };
        }
        // A POST redirect needs a form submitted by script; the hosted page has none.
        return {
          status: 'declined',
          connectorReference,
          declineCode: 'authentication_failed',
          message: 'Adyen asked for a redirect the hosted page cannot make (a POST form)',
        };
      }
      default:
        throw new ConnectorError(
          'processor_error',
          `Adyen answered a result Kassa does not handle (${response.resultCode ?? 'none'})`,
          { connectorId, retryable: false },
        );
    }
  }

  async function authorize(request: AuthorizeRequest): Promise<AuthorizeResult> {
    const body = paymentRequest(request);
    const response = await client.post<AdyenPaymentResponse>('/payments', body, request.idempotencyKey);
    checkReplay(response, request.paymentId, body.amount);
    return toAuthorizeResult(response);
  }

  async function modify(
    kind: 'captures' | 'cancels' | 'refunds',
    connectorReference: string,
    idempotencyKey: string,
    amount?: AdyenAmount,
  ): Promise<OperationResult> {
    const reference = checkReference(connectorReference);
    const response = await client.post<AdyenModificationResponse>(
      `/payments/${reference}/${kind}`,
      { merchantAccount, ...(amount ? { amount } : {}) },
      idempotencyKey,
    );
    if (response.paymentPspReference !== reference) {
      throw invalid('The idempotency key was used before for another payment');
    }
    if (amount && response.amount && response.amount.value !== amount.value) {
      throw invalid('The idempotency key was used before for another amount');
    }
    if (response.status !== 'received' || !response.pspReference) {
      throw new ConnectorError('processor_error', 'Adyen answered a modification without a reference', {
        connectorId,
        retryable: false,
      });
    }
    return { status: 'pending', connectorReference: reference, operationReference: response.pspReference };
  }

  /** A capture or refund: a modification of an amount. */
  function modifyAmount(kind: 'captures' | 'refunds', request: CaptureRequest | RefundRequest) {
    const amount = checkAmount(request.amount, request.currency);
    return modify(kind, request.connectorReference, request.idempotencyKey, amount);
  }

  const noLookup = (what: string) =>
    new ConnectorError(
      'processor_error',
      `Adyen's Checkout API has no call that reads ${what}; its webhooks are the source of truth`,
      { connectorId, retryable: false },
    );

  return {
    id: connectorId,
    capabilities: {
      methods: ['card'],
      livemode: true,
      partialCapture: true,
      // Adyen's default: a partial capture cancels what it left. Several partial captures need a setting Adyen
      // support turns on per merchant account, which Kassa cannot see: the processor account's
      // `multiple_captures` says it is on. Should Adyen refuse a second capture after all, its CAPTURE webhook
      // says success false and the capture ends FAILED, having taken nothing.
      multipleCaptures: context.multipleCaptures ?? false,
      partialRefund: true,
    },
    authorize,
    async sale(request: SaleRequest): Promise<SaleResult> {
      const { captureIdempotencyKey: _capturedLater, ...authorization } = request;
      return authorize(authorization);
    },
    async getPaymentStatus(): Promise<ConnectorPaymentStatus> {
      throw noLookup('a payment');
    },
    async lookupPayment(): Promise<ConnectorPaymentStatus | null> {
      throw noLookup('a payment by its reference');
    },
    async completeAction(request) {
      const redirectResult = request.returnParameters.redirectResult;
      if (!redirectResult) throw invalid('The shopper came back without a redirectResult');
      const reference = checkReference(request.connectorReference);
      // The same redirectResult always gets the same answer, so a retried return is safe.
      const key = `details-${createHash('sha256').update(redirectResult).digest('base64url')}`;
      const response = await client.post<AdyenPaymentResponse>(
        '/payments/details',
        { details: { redirectResult } },
        key,
      );
      if (response.merchantReference !== undefined && response.merchantReference !== request.paymentId) {
        throw invalid('The redirectResult belongs to another payment');
      }
      if (response.pspReference !== undefined && response.pspReference !== reference) {
        throw invalid('The redirectResult belongs to another payment');
      }
      if (!response.amount) {
        throw new ConnectorError('processor_error', 'Adyen answered /payments/details without the amount', {
          connectorId,
          retryable: false,
        });
      }
      const result = toAuthorizeResult(response, reference);
      return {
        connectorReference: reference,
        status: result.status,
        amount: response.amount.value,
        currency: response.amount.currency,
        capturedAmount: 0,
        refundedAmount: 0,
        ...(result.status === 'declined' ? { declineCode: result.declineCode } : {}),
        ...(result.status === 'requires_action' ? { action: result.action } : {}),
      };
    },
    capture: (request: CaptureRequest) => modifyAmount('captures', request),
    void: (request: VoidRequest) => modify('cancels', request.connectorReference, request.idempotencyKey),
    refund: (request: RefundRequest) => modifyAmount('refunds', request),
  };
}

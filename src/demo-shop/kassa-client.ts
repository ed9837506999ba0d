/**
 * How the demo shop talks to Kassa: the documented HTTP API, over the network, with its secret API key —
 * exactly what a separate merchant server does. Nothing here imports Kassa's services or database: if the
 * shop works, the public API does.
 *
 * Only the fields the shop reads are typed; the API returns more.
 */

export type ApiOrder = {
  order_id: string;
  checkout_id: string;
  status: string;
  merchant_order_id: string;
  currency: string;
  subtotal_amount: number;
  discounts: { amount: number; description?: string }[];
  taxes: { amount: number; description?: string }[];
  shipping_amount: number;
  total_amount: number;
  products: { product_id: string; name: string; quantity: number; unit_price: number }[];
  metadata: Record<string, unknown>;
  placed_at?: string;
};

export type ApiCheckout = {
  checkout_id: string;
  status: string;
  checkout_redirect_url: string;
  client_token?: string;
  order: ApiOrder;
};

export type ApiPayment = {
  id: string;
  status: string;
  method: string;
  amount: number;
  currency: string;
  card: { brand: string; last4: string } | null;
  created_at: string;
};

export type ApiPaymentLink = {
  payment_link_id: string;
  status: string;
  url: string;
  qr_code?: string;
  qr_svg_url: string;
  expires_at: string;
  activation_window_seconds: number;
  order: ApiOrder;
};

export class DemoApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'DemoApiError';
    this.status = status;
    this.code = code;
  }
}

export type DemoKassaClient = ReturnType<typeof createDemoKassaClient>;

const REQUEST_TIMEOUT_MS = 15_000;

export function createDemoKassaClient(options: { baseUrl: string; apiKey: string }) {
  async function request<T>(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    idempotencyKey?: string,
  ): Promise<T> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${options.apiKey}`,
      accept: 'application/json',
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
    let response: Response;
    try {
      response = await fetch(`${options.baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        redirect: 'manual',
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      throw new DemoApiError(0, 'unreachable', `Kassa could not be reached (${(error as Error).message})`);
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!response.ok) {
      const problem = (json ?? {}) as {
        code?: unknown;
        detail?: unknown;
        errors?: { pointer: string; message: string }[];
      };
      const fields = Array.isArray(problem.errors)
        ? problem.errors.map((error) => ` ${error.pointer}: ${error.message}`).join(';')
        : '';
      throw new DemoApiError(
        response.status,
        typeof problem.code === 'string' ? problem.code : 'http_error',
        `${typeof problem.detail === 'string' ? problem.detail : `HTTP ${response.status}`}${fields}`,
      );
    }
    return json as T;
  }

  const id = (value: string) => encodeURIComponent(value);
  return {
    createCheckout: (body: unknown, idempotencyKey: string) =>
      request<ApiCheckout>('POST', '/v1/checkouts', body, idempotencyKey),
    getCheckout: (checkoutId: string) => request<ApiCheckout>('GET', `/v1/checkouts/${id(checkoutId)}`),
    getOrder: (orderId: string) => request<ApiOrder>('GET', `/v1/orders/${id(orderId)}`),
    listOrderPayments: (orderId: string) =>
      request<{ data: ApiPayment[] }>('GET', `/v1/orders/${id(orderId)}/payments`),
    createPaymentLink: (body: unknown, idempotencyKey: string) =>
      request<ApiPaymentLink>('POST', '/v1/payment-links', body, idempotencyKey),
    getPaymentLink: (linkId: string) => request<ApiPaymentLink>('GET', `/v1/payment-links/${id(linkId)}`),
    getSigningSecret: () => request<{ secret: string }>('GET', '/v1/merchant/signing-secret'),
  };
}

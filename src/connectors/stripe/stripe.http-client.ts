/**
 * The HTTP client the `stripe` library is given: every call to Stripe leaves through Kassa's egress client,
 * so the egress policy, connect and response timeouts and the response cap apply to it like to any other
 * outbound request. The library builds the requests (paths, form encoding, headers, Stripe-Version); this
 * class only moves bytes.
 */
import Stripe from 'stripe';

import { EgressError, type EgressClient, type EgressResponse } from '../../egress/index.ts';

type RequestHeaders = Record<string, string | number | string[]>;

class EgressHttpClientResponse extends Stripe.HttpClientResponse {
  readonly #response: EgressResponse;

  constructor(response: EgressResponse) {
    super(response.status, response.headers);
    this.#response = response;
  }

  override getRawResponse(): { headers: Record<string, string>; statusCode: number } {
    return { headers: this.#response.headers, statusCode: this.#response.status };
  }

  override toStream(): never {
    throw new Error('Streaming responses are not used by the Stripe connector');
  }

  override toJSON(): Promise<unknown> {
    if (this.#response.truncated) {
      return Promise.reject(new Error('The answer from Stripe was larger than the egress response cap'));
    }
    return Promise.resolve(this._parseResponseBody(this.#response.body.toString('utf8')));
  }
}

export class EgressHttpClient extends Stripe.HttpClient {
  readonly #egress: EgressClient;

  constructor(egress: EgressClient) {
    super();
    this.#egress = egress;
  }

  override getClientName(): string {
    return 'kassa-egress';
  }

  override async makeRequest(
    host: string,
    port: string,
    path: string,
    method: string,
    headers: RequestHeaders,
    requestData: string,
    protocol: string,
  ): Promise<EgressHttpClientResponse> {
    if (method !== 'GET' && method !== 'POST') {
      throw new EgressError('invalid_request', `The Stripe connector does not send ${method} requests`, null);
    }
    const hostname = host.includes(':') ? `[${host}]` : host; // an IPv6 literal
    const url = new URL(`${protocol === 'http' ? 'http' : 'https'}://${hostname}${path}`);
    url.port = port;
    const flat: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers)) {
      // undici computes the length of the body it sends; a second Content-Length would conflict with it.
      if (name.toLowerCase() === 'content-length') continue;
      flat[name] = Array.isArray(value) ? value.join(', ') : String(value);
    }
    // The egress client's own deadline governs (its policy's timeouts), not the library's `timeout`.
    const response = await this.#egress.request({
      url,
      method,
      headers: flat,
      ...(method === 'POST' ? { body: requestData } : {}),
    });
    return new EgressHttpClientResponse(response);
  }
}

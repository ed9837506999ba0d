import createClient, {
  type Client,
  type ClientPathsWithMethod,
  type FetchResponse,
  type MaybeOptionalInit,
} from 'openapi-fetch';
import type { paths } from './openapi.ts';
import { createTransport, defaultIdempotencyKey } from './transport.ts';
import { verifyWebhook, type WebhookEvent, type WebhookHeaders } from './webhooks.ts';

export type KassaOptions = {
  /** A secret or restricted API key (`sk_test_…`, `rk_live_…`) or an OAuth access token. */
  apiKey: string;
  /** Where the gateway answers, e.g. `https://pay.example.com`. Default `http://localhost:3000`. */
  baseUrl?: string;
  /** Retries after the first attempt, where a retry is safe (see transport.ts). Default 2. */
  maxRetries?: number;
  /** Backoff base in milliseconds. Default 500. */
  retryDelayMs?: number;
  /** Per attempt, in milliseconds. Default 30 000 (the gateway's own processor timeout). */
  timeoutMs?: number;
  /** A dated `Kassa-Version` to pin requests to; default the merchant's pinned version. */
  apiVersion?: string;
  /** The Idempotency-Key of POSTs that bring none. Default a random UUID per call (reused by its retries). */
  newIdempotencyKey?: () => string;
  /** Another fetch (tests, proxies). Default the global one. */
  fetch?: typeof globalThis.fetch;
};

type Api = Client<paths>;
type Method = 'get' | 'put' | 'post' | 'patch' | 'delete';
type PathOf<M extends Method> = ClientPathsWithMethod<Api, M>;
type OperationOf<M extends Method, P extends PathOf<M>> =
  paths[P] extends Record<M, infer Operation>
    ? Operation extends Record<string | number, unknown>
      ? Operation
      : never
    : never;
type InitOf<M extends Method, P extends PathOf<M>> = MaybeOptionalInit<paths[P], M>;
/** The init argument, optional when nothing in it is required (as openapi-fetch's own methods have it). */
type InitArgument<Init> = undefined extends Init ? [init?: Init] : [init: Init];
/** What a successful call answers (2xx JSON), typed from the document. */
export type ResponseOf<M extends Method, P extends PathOf<M>, Init = unknown> = NonNullable<
  FetchResponse<OperationOf<M, P>, Init, `${string}/${string}`>['data']
>;

type ListEnvelope = { object: 'list'; data: unknown[]; has_more: boolean; next_cursor: string | null };
/** The GET paths that answer a list page (`object: "list"`, `data`, `has_more`, `next_cursor`). */
export type ListPath = {
  [P in PathOf<'get'>]: ResponseOf<'get', P> extends ListEnvelope ? P : never;
}[PathOf<'get'>];
/** The objects a list path pages through. */
export type ItemOf<P extends ListPath> = ResponseOf<'get', P> extends { data: (infer Item)[] } ? Item : never;

export type Kassa = {
  /**
   * The typed openapi-fetch client underneath (`kassa.api.GET('/v1/checkouts/{id}', …)`), on the same transport:
   * its calls throw KassaApiError too, so `data` is always set when they return.
   */
  api: Api;
  get<P extends PathOf<'get'>, I extends InitOf<'get', P>>(
    path: P,
    ...init: InitArgument<I>
  ): Promise<ResponseOf<'get', P, I>>;
  post<P extends PathOf<'post'>, I extends InitOf<'post', P>>(
    path: P,
    ...init: InitArgument<I>
  ): Promise<ResponseOf<'post', P, I>>;
  patch<P extends PathOf<'patch'>, I extends InitOf<'patch', P>>(
    path: P,
    ...init: InitArgument<I>
  ): Promise<ResponseOf<'patch', P, I>>;
  put<P extends PathOf<'put'>, I extends InitOf<'put', P>>(
    path: P,
    ...init: InitArgument<I>
  ): Promise<ResponseOf<'put', P, I>>;
  delete<P extends PathOf<'delete'>, I extends InitOf<'delete', P>>(
    path: P,
    ...init: InitArgument<I>
  ): Promise<ResponseOf<'delete', P, I>>;
  /**
   * Every object of a list, page after page, fetched as the loop asks for more: `for await (const checkout of
   * kassa.paginate('/v1/checkouts', { params: { query: { limit: 100 } } }))`. Newest first from the start (or
   * from `starting_after`), each next page asked with the previous page's `next_cursor`; given `ending_before`
   * it walks towards newer objects instead (each page still newest first, the pages in the order fetched).
   * Break out of the loop to stop fetching.
   */
  paginate<P extends ListPath, I extends InitOf<'get', P>>(
    path: P,
    ...init: InitArgument<I>
  ): AsyncGenerator<ItemOf<P>>;
  webhooks: {
    /** `verifyWebhook` (src/webhooks.ts) with this secret. */
    verify(secret: string, payload: string | Buffer, headers: WebhookHeaders): WebhookEvent;
  };
};

export function createKassa(options: KassaOptions): Kassa {
  const api = createClient<paths>({
    baseUrl: (options.baseUrl ?? 'http://localhost:3000').replace(/\/+$/, ''),
    fetch: createTransport({
      apiKey: options.apiKey,
      maxRetries: options.maxRetries ?? 2,
      retryDelayMs: options.retryDelayMs ?? 500,
      timeoutMs: options.timeoutMs ?? 30_000,
      fetch: options.fetch ?? globalThis.fetch,
      apiVersion: options.apiVersion,
      newIdempotencyKey: options.newIdempotencyKey ?? defaultIdempotencyKey,
    }),
  });

  // The transport throws for every error answer, so a call that returns has its data.
  const call =
    (method: Uppercase<Method>) =>
    async (path: string, init?: unknown): Promise<never> => {
      const result = await api.request(method as never, path as never, init as never);
      return result.data as never;
    };
  const get = call('GET');

  async function* paginate(path: string, init?: { params?: { query?: Record<string, unknown> } }) {
    const backwards = init?.params?.query?.ending_before !== undefined;
    const cursorName = backwards ? 'ending_before' : 'starting_after';
    let cursor = init?.params?.query?.[cursorName] as string | undefined;
    for (;;) {
      const query = { ...init?.params?.query, ...(cursor ? { [cursorName]: cursor } : {}) };
      const page = (await get(path, { ...init, params: { ...init?.params, query } })) as ListEnvelope;
      yield* page.data;
      if (!page.has_more || !page.next_cursor) return;
      cursor = page.next_cursor;
    }
  }

  return {
    api,
    get,
    post: call('POST'),
    patch: call('PATCH'),
    put: call('PUT'),
    delete: call('DELETE'),
    paginate: paginate as Kassa['paginate'],
    webhooks: { verify: verifyWebhook },
  };
}

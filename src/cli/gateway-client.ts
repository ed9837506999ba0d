import { randomUUID } from 'node:crypto';
import { CommandError } from './errors.ts';

/**
 * How the developer commands (`kassa listen`, `trigger`, `events tail`, `payments get`) talk to a running
 * gateway: over its public HTTP API with a merchant's API key, like any integration — never through the
 * database, so they work against a remote gateway as well as a local one.
 */

export type Gateway = {
  baseUrl: string;
  apiKey: string;
  /** A JSON request; a problem document (or a refused connection) becomes a one-line CommandError. */
  request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T>;
};

export function connectGateway(options: Record<string, string | boolean | undefined>): Gateway {
  const apiKey = stringOption(options['api-key']) ?? process.env.KASSA_API_KEY;
  if (!apiKey) {
    throw new CommandError('needs an API key: pass --api-key sk_test_… or set KASSA_API_KEY');
  }
  const given =
    stringOption(options.gateway) ??
    process.env.KASSA_GATEWAY_URL ??
    `http://localhost:${process.env.PORT ?? '3000'}`;
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw new CommandError(`--gateway ${JSON.stringify(given)} is not a URL (e.g. http://localhost:3000)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CommandError(`--gateway must be an http:// or https:// URL, not ${given}`);
  }
  const baseUrl = url.href.replace(/\/+$/, '');
  return {
    baseUrl,
    apiKey,
    async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
      const headers: Record<string, string> = {
        authorization: `Bearer ${apiKey}`,
        accept: 'application/json',
      };
      if (method === 'POST') {
        headers['content-type'] = 'application/json';
        headers['idempotency-key'] = randomUUID();
      }
      const response = await fetchOrExplain(baseUrl, `${baseUrl}${path}`, {
        method,
        headers,
        ...(method === 'POST' ? { body: JSON.stringify(body ?? {}) } : {}),
      });
      const text = await response.text();
      if (!response.ok) throw new CommandError(describeProblem(method, path, response.status, text));
      return (text ? JSON.parse(text) : undefined) as T;
    },
  };
}

function stringOption(value: string | boolean | undefined) {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** `fetch`, with a refused or unreachable gateway reported as one line instead of a TypeError stack. */
export async function fetchOrExplain(baseUrl: string, url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new CommandError(
      `cannot reach the gateway at ${baseUrl}: ${cause?.code ?? cause?.message ?? (error as Error).message}; ` +
        'is it running (kassa serve), and is --gateway right?',
    );
  }
}

/** "GET /v1/payments/x: 404 not_found: …" from a problem document (or whatever the body was). */
export function describeProblem(method: string, path: string, status: number, text: string): string {
  try {
    const problem = JSON.parse(text) as { code?: string; detail?: string; title?: string };
    const detail = problem.detail ?? problem.title ?? '';
    return `${method} ${path}: ${status}${problem.code ? ` ${problem.code}` : ''}${detail ? `: ${detail}` : ''}`;
  } catch {
    return `${method} ${path}: ${status} ${text.slice(0, 200)}`;
  }
}

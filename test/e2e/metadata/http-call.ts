/** One JSON request over real HTTP, its answer read once (the metadata tests' helper). */
export type Answer = { status: number; body: string; headers: Record<string, string>; json<T>(): T };

export async function sendJson(
  baseUrl: string,
  headers: Record<string, string>,
  method: 'POST' | 'GET' | 'PATCH',
  path: string,
  payload?: unknown,
): Promise<Answer> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { ...headers, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
  });
  const body = await response.text();
  return {
    status: response.status,
    body,
    headers: Object.fromEntries(response.headers.entries()),
    json: <T>() => JSON.parse(body) as T,
  };
}

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../lib/errors.ts';
import type { KassaApp } from './http.types.ts';

/**
 * Serves `public/` (the hosted pages' stylesheet and script) under `/public/…`, the paths
 * docs/page-scripts.md inventories.
 *
 * The files are read once at start-up into memory: the set is small and fixed, a request can never name a
 * file outside it (no path is ever joined from the URL), and the SHA-384 reviewed in the inventory is the
 * SHA-384 of what is served. Short cache with revalidation (`ETag`), so a deployed change of the script
 * reaches shoppers within minutes; `nosniff` so a browser never reads a file as another type.
 */

export const PUBLIC_PREFIX = '/public';
const DEFAULT_PUBLIC_DIR = fileURLToPath(new URL('../../public/', import.meta.url));
const CACHE_CONTROL = 'public, max-age=300, must-revalidate';

const CONTENT_TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

type Asset = { body: Buffer; contentType: string; etag: string };

function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.name.startsWith('.')) return [];
    if (entry.isDirectory()) return listFiles(path.join(dir, entry.name), relative);
    return entry.isFile() ? [relative] : [];
  });
}

export function loadPublicAssets(dir = DEFAULT_PUBLIC_DIR): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const relative of listFiles(dir)) {
    const contentType = CONTENT_TYPES[path.extname(relative).toLowerCase()];
    if (!contentType) continue; // only types we know how to label are served
    const body = readFileSync(path.join(dir, relative));
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    assets.set(relative, { body, contentType, etag });
  }
  return assets;
}

export function registerStaticAssets(app: KassaApp, options: { dir?: string } = {}) {
  const assets = loadPublicAssets(options.dir);
  app.get(`${PUBLIC_PREFIX}/*`, { schema: { hide: true } }, async (request, reply) => {
    const wildcard = (request.params as { '*': string })['*'];
    const asset = assets.get(wildcard);
    if (!asset) throw new AppError('route_not_found', `No asset ${PUBLIC_PREFIX}/${wildcard}`);
    reply
      .header('content-type', asset.contentType)
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', CACHE_CONTROL)
      .header('etag', asset.etag)
      .header('cross-origin-resource-policy', 'same-origin');
    if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
    return reply.code(200).send(asset.body);
  });
}

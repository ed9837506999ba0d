import type { FastifyReply } from 'fastify';
import { API_VERSIONS } from '../lib/api-versions.ts';

/**
 * The `Deprecation` header (RFC 9745) of a route or field deprecated by the first dated version: an
 * `@<unix seconds>` date, the day that version shipped. docs/api-conventions.md §13: a deprecated route also
 * links its changelog entry (`rel="deprecation"`); `Sunset` comes only once a removal is scheduled.
 */
export const DEPRECATED_SINCE = `@${Date.parse(`${API_VERSIONS[0]}T00:00:00Z`) / 1000}`;

export function markDeprecated(reply: FastifyReply): void {
  reply.header('deprecation', DEPRECATED_SINCE);
  reply.header('link', '</docs/changelog.md>; rel="deprecation"; type="text/markdown"');
}

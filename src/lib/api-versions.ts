/**
 * Dated API versions (docs/api-conventions.md §13, docs/changelog.md). A version is named by the date it
 * shipped; this list grows by one entry per release that breaks something, oldest first. Today there is one,
 * so the machinery (src/http/api-version.ts) records and echoes it: which version a request asked for, which a merchant is
 * pinned to, which a webhook endpoint renders in — ready for the day a second one exists.
 */
export const API_VERSIONS = ['2026-12-06'] as const;
export type ApiVersion = (typeof API_VERSIONS)[number];
export const LATEST_API_VERSION: ApiVersion = API_VERSIONS[API_VERSIONS.length - 1]!;

export function isApiVersion(value: unknown): value is ApiVersion {
  return typeof value === 'string' && (API_VERSIONS as readonly string[]).includes(value);
}

import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import type { Queryable } from '../../../db/client.ts';
import type { Clock } from '../../../lib/clock.ts';
import type { AuthThrottle } from '../../../modules/auth/auth-throttle.ts';
import type { CredentialUsageRecorder } from '../../../modules/merchants/credential-usage.ts';
import type { AccessTokenService } from '../../../modules/auth/access-token.service.ts';
import { ALL_SCOPE_VALUES, isWithin, parseScopes } from '../../../modules/auth/scopes.ts';
import { authenticateClient } from '../../../modules/merchants/merchant.service.ts';
import type { KassaApp } from '../../http.types.ts';

/**
 * POST /v1/oauth/tokens — OAuth 2.0 client credentials (RFC 6749 §4.4).
 *
 * Client authentication by HTTP Basic (§2.3.1, which the RFC requires servers to support) or by
 * `client_id`/`client_secret` in a JSON or form-encoded body. Errors use RFC 6749 §5.2 bodies
 * (`{error, error_description}` as application/json), not problem documents: OAuth clients expect them.
 * An unknown client and a wrong secret get the same answer. Issuing a token stores no effect, so the
 * route is naturally idempotent.
 */

const ZTokenRequest = z
  .object({
    grant_type: z.string().optional().describe('Must be "client_credentials"'),
    client_id: z.string().optional(),
    client_secret: z.string().optional(),
    scope: z
      .string()
      .optional()
      .describe(
        `Space-separated scopes the token should carry (default: every scope the client may have); each of: ${ALL_SCOPE_VALUES.join(' ')}`,
      ),
  })
  .describe(
    'Send as application/json or application/x-www-form-urlencoded; or authenticate with HTTP Basic.',
  );

const ZTokenResponse = z.object({
  token_type: z.literal('Bearer'),
  expires_in: z.number().int(),
  access_token: z.string(),
  scope: z.string().describe('The scopes the token carries, space-separated'),
});

const ZOAuthError = z.object({
  error: z.enum([
    'invalid_request',
    'invalid_client',
    'unsupported_grant_type',
    'invalid_scope',
    'too_many_attempts',
  ]),
  error_description: z.string(),
  status: z.number().int(),
});

type OAuthErrorCode = z.infer<typeof ZOAuthError>['error'];

function oauthError(reply: FastifyReply, status: number, error: OAuthErrorCode, description: string) {
  return reply
    .code(status)
    .header('cache-control', 'no-store')
    .header('pragma', 'no-cache')
    .type('application/json; charset=utf-8')
    .serializer((payload: unknown) => JSON.stringify(payload))
    .send({ error, error_description: description, status });
}

function decodeBasic(header: string): { clientId: string; clientSecret: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  try {
    // RFC 6749 §2.3.1: both parts are form-urlencoded before being joined.
    return {
      clientId: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' ')),
      clientSecret: decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' ')),
    };
  } catch {
    return undefined;
  }
}

export function registerOAuthTokenRoute(
  app: KassaApp,
  deps: {
    db: Queryable;
    clock: Clock;
    accessTokens: AccessTokenService;
    throttle: AuthThrottle;
    /** Notes the client as used when it gets a token (`last_used_at`, written in batches). */
    usage?: Pick<CredentialUsageRecorder, 'record'>;
  },
) {
  app.post(
    '/v1/oauth/tokens',
    {
      config: { auth: 'public', idempotency: 'natural' },
      attachValidation: true,
      schema: {
        tags: ['Authentication'],
        summary: 'Get an access token (OAuth 2.0 client credentials)',
        body: ZTokenRequest,
        response: { 200: ZTokenResponse, 400: ZOAuthError, 401: ZOAuthError, 429: ZOAuthError },
      },
    },
    async (request, reply) => {
      if (request.validationError)
        return oauthError(reply, 400, 'invalid_request', 'The request body is not valid');
      const body = request.body ?? {};
      const basicHeader = request.headers.authorization;
      const usesBasic = basicHeader !== undefined && /^Basic\s/i.test(basicHeader);
      const basic = usesBasic ? decodeBasic(basicHeader) : undefined;
      if (usesBasic && !basic)
        return oauthError(reply, 400, 'invalid_request', 'The Basic authorization header is malformed');
      if (basic && (body.client_id !== undefined || body.client_secret !== undefined)) {
        return oauthError(
          reply,
          400,
          'invalid_request',
          'Use one client authentication method, not Basic and body together',
        );
      }
      if (body.grant_type === undefined)
        return oauthError(reply, 400, 'invalid_request', 'grant_type is required');
      if (body.grant_type !== 'client_credentials') {
        return oauthError(
          reply,
          400,
          'unsupported_grant_type',
          'Only grant_type=client_credentials is supported',
        );
      }
      const clientId = basic?.clientId ?? body.client_id;
      const clientSecret = basic?.clientSecret ?? body.client_secret;
      if (!clientId || !clientSecret) {
        return oauthError(reply, 400, 'invalid_request', 'client_id and client_secret are required');
      }
      // From HTTP Basic they arrive percent-decoded, so they may hold U+0000, which the throttle's and the
      // client lookup's PostgreSQL text cannot (the body's fields are refused earlier, by request-shape).
      if (clientId.includes('\u0000') || clientSecret.includes('\u0000')) {
        return oauthError(
          reply,
          400,
          'invalid_request',
          'client_id and client_secret must not contain NUL characters',
        );
      }
      // RFC 6749 §3.3: the scope is checked against the vocabulary before the client is authenticated (a
      // malformed request says so whoever sends it) and against what the client may have after.
      const requested = body.scope === undefined ? undefined : parseScopes(body.scope);
      if (requested && requested.unknown.length > 0) {
        return oauthError(
          reply,
          400,
          'invalid_scope',
          `Unknown scope ${requested.unknown.map((value) => `"${value}"`).join(', ')}; each scope is one of: ${ALL_SCOPE_VALUES.join(' ')}`,
        );
      }

      // Counted before the secret is checked (auth-throttle.ts): parallel guesses cannot all get through.
      const attempt = await deps.throttle.reserveAttempt(clientId, request.ip);
      if (!attempt.allowed) {
        reply.header('retry-after', String(attempt.retryAfterSeconds));
        return oauthError(
          reply,
          429,
          'too_many_attempts',
          `Too many failed attempts; retry in ${attempt.retryAfterSeconds} s`,
        );
      }
      const result = await authenticateClient(deps.db, clientId, clientSecret, deps.clock.now());
      if (!result.ok) {
        if (usesBasic) reply.header('www-authenticate', 'Basic realm="kassa", charset="UTF-8"');
        return oauthError(reply, 401, 'invalid_client', 'Client authentication failed');
      }
      await attempt.succeeded(); // the secret was right: the reserved attempt is given back, whatever the scope
      const granted = requested && requested.scopes.length > 0 ? requested.scopes : result.scopes;
      if (!isWithin(granted, new Set(result.scopes))) {
        return oauthError(
          reply,
          400,
          'invalid_scope',
          `This client may have only: ${result.scopes.join(' ')}`,
        );
      }
      const token = await deps.accessTokens.issue(result, granted);
      deps.usage?.record(clientId);
      return reply.header('cache-control', 'no-store').header('pragma', 'no-cache').code(200).send(token);
    },
  );
}

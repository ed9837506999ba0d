import { randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import type { Clock } from '../../lib/clock.ts';
import { AppError } from '../../lib/errors.ts';
import { formatScopes, parseScopes, type Scope } from './scopes.ts';
import { TOKEN_ALGORITHM, type SigningKeyStore } from './signing-keys.ts';

/**
 * RFC 9068 access tokens: header `typ: at+jwt`, claims iss, aud, sub (= the client, for client
 * credentials), client_id, iat, exp, jti, scope — plus Kassa's `merchant_id` and `livemode`, which the
 * signature makes as trustworthy as the rest. `scope` holds exactly the scopes granted (src/modules/auth/scopes.ts):
 * the authentication hook enforces them on every route. Verification follows RFC 8725: a fixed algorithm list, an
 * explicit type, exact issuer and audience, and keys only from our own store (never from the token).
 */

export type AccessTokenClaims = {
  clientId: string;
  merchantId: string;
  livemode: boolean;
  jti: string;
  /** The granted scopes; values this server does not know (none today) are dropped. */
  scopes: Scope[];
  /** Expiry, seconds since the epoch. */
  exp: number;
};

export type AccessTokenService = {
  issue(
    subject: { clientId: string; merchantId: string; livemode: boolean },
    scopes: readonly Scope[],
  ): Promise<{
    access_token: string;
    token_type: 'Bearer';
    expires_in: number;
    scope: string;
  }>;
  verify(token: string): Promise<AccessTokenClaims>;
};

export function createAccessTokenService(deps: {
  keys: SigningKeyStore;
  clock: Clock;
  issuer: string;
  audience: string;
  ttlSeconds: number;
}): AccessTokenService {
  return {
    async issue(subject, scopes) {
      const scope = formatScopes(scopes);
      const { kid, key } = await deps.keys.signingKey();
      const issuedAt = Math.floor(deps.clock.now().getTime() / 1000);
      const accessToken = await new SignJWT({
        client_id: subject.clientId,
        scope,
        merchant_id: subject.merchantId,
        livemode: subject.livemode,
      })
        .setProtectedHeader({ alg: TOKEN_ALGORITHM, typ: 'at+jwt', kid })
        .setIssuer(deps.issuer)
        .setAudience(deps.audience)
        .setSubject(subject.clientId)
        .setIssuedAt(issuedAt)
        .setExpirationTime(issuedAt + deps.ttlSeconds)
        .setJti(randomUUID())
        .sign(key);
      return {
        access_token: accessToken,
        token_type: 'Bearer',
        expires_in: deps.ttlSeconds,
        scope,
      };
    },

    async verify(token) {
      try {
        const { payload } = await jwtVerify(
          token,
          async (header) => {
            const key = header.kid ? await deps.keys.verificationKey(header.kid) : undefined;
            if (!key) throw new AppError('invalid_token', 'The token was not signed by a key of this server');
            return key;
          },
          {
            algorithms: [TOKEN_ALGORITHM],
            typ: 'at+jwt',
            issuer: deps.issuer,
            audience: deps.audience,
            requiredClaims: ['exp', 'iat', 'jti', 'sub', 'client_id', 'scope'],
            currentDate: deps.clock.now(),
            clockTolerance: 5,
          },
        );
        const { client_id: clientId, merchant_id: merchantId, livemode, jti, sub, exp, scope } = payload;
        if (
          typeof clientId !== 'string' ||
          clientId !== sub ||
          typeof merchantId !== 'string' ||
          typeof livemode !== 'boolean' ||
          typeof jti !== 'string' ||
          typeof exp !== 'number' ||
          typeof scope !== 'string'
        ) {
          throw new AppError('invalid_token', 'The token is missing required claims');
        }
        return { clientId, merchantId, livemode, jti, exp, scopes: parseScopes(scope).scopes };
      } catch (error) {
        if (error instanceof AppError) throw error;
        if (error instanceof joseErrors.JWTExpired)
          throw new AppError('invalid_token', 'The access token has expired');
        if (error instanceof joseErrors.JOSEError || error instanceof TypeError) {
          throw new AppError('invalid_token', 'The access token is not valid');
        }
        throw error;
      }
    },
  };
}

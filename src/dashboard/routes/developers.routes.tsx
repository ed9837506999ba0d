import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../lib/errors.ts';
import { pooledRandomHex } from '../../lib/random.ts';
import {
  createApiKey,
  DEFAULT_ROLL_OVERLAP_SECONDS,
  revokeApiKey,
  rollApiKey,
} from '../../modules/merchants/api-key.service.ts';
import { listApiKeys } from '../../modules/merchants/credential.repository.ts';
import { roleAllows } from '../../modules/users/permissions.ts';
import {
  formKeyOf,
  formText,
  NATURAL_POST,
  TRANSACTIONAL_POST,
  type Context,
  pageFeedback,
  formStrings,
  credentialCreatorOf,
} from '../kit.tsx';
import { isRepeatedForm, recordFormOnce } from '../form-once.ts';
import { DevelopersPage, type RevealedKey } from '../pages/developers.tsx';
import type { KassaApp } from '../../http/http.types.ts';
import type { DashboardKit } from '../kit.tsx';
import { stepUpDone } from '../step-up.tsx';

const NOTICES: Record<string, string> = {
  key_revoked: 'The API key was revoked; every gateway refuses it within a second.',
  key_already_created: 'This form was already sent: its key was created then, and its secret shown once.',
};

/** Developers: API keys (create, shown once, roll with overlap, revoke). */
export function registerDeveloperRoutes(scope: KassaApp, kit: DashboardKit) {
  const { db, clock, sendPage, seeOther, readPage, writeActionContext } = kit;

  async function developersPage(
    request: FastifyRequest,
    reply: FastifyReply,
    context: Context,
    extra: { statusCode?: number; revealed?: RevealedKey; error?: string } = {},
  ) {
    const keys = await listApiKeys(db, context.scope, { limit: 100 });
    return sendPage(reply, extra.statusCode ?? 200, (nonce) => (
      <DevelopersPage
        nonce={nonce}
        viewer={context.viewer}
        keys={keys.slice(0, 100)}
        canWrite={roleAllows(context.session.user.role, 'api_keys', 'write')}
        formKey={pooledRandomHex(16)}
        revealed={extra.revealed}
        {...pageFeedback(request, NOTICES, extra.error)}
      />
    ));
  }

  readPage(scope, '/dashboard/developers', 'api_keys', developersPage);

  /**
   * Creates a key and shows its secret once, in this answer (a redirect would have to keep it somewhere).
   * The form's key is recorded in the idempotency table in the same transaction, so the same form sent
   * twice creates one key; the second answer says so instead of showing a secret again.
   */
  scope.post(
    '/dashboard/developers/api-keys',
    { config: TRANSACTIONAL_POST, schema: { hide: true } },
    async (request, reply) => {
      const context = await writeActionContext(request, 'api_keys');
      if (!(await stepUpDone(kit, context, request, reply))) return reply;
      const formKey = formKeyOf(request);
      const body = (request.body ?? {}) as Record<string, unknown>;
      const type = body.type === 'secret' ? 'secret' : 'restricted';
      const scopes = formStrings(request, 'scopes');
      const name = formText(request, 'name').trim().slice(0, 100) || null;
      let created: Awaited<ReturnType<typeof createApiKey>>;
      try {
        created = await db.transaction(async (tx) => {
          const made = await createApiKey(tx, credentialCreatorOf(context), {
            type,
            ...(type === 'restricted' ? { scopes } : {}),
            name,
          });
          await recordFormOnce(tx, request, context.scope, formKey, '/dashboard/developers/api-keys', {
            id: made.key.id,
          });
          return made;
        });
      } catch (error) {
        if (isRepeatedForm(error)) return seeOther(reply, '/dashboard/developers?notice=key_already_created');
        if (error instanceof AppError)
          return developersPage(request, reply, context, { statusCode: 422, error: error.message });
        throw error;
      }
      return developersPage(request, reply, context, {
        statusCode: 201,
        revealed: { id: created.key.id, secret: created.secret },
      });
    },
  );

  scope.post(
    '/dashboard/developers/api-keys/:id/roll',
    { config: NATURAL_POST, schema: { hide: true } },
    async (request, reply) => {
      const context = await writeActionContext(request, 'api_keys');
      if (!(await stepUpDone(kit, context, request, reply))) return reply;
      const id = (request.params as { id: string }).id;
      try {
        // A key is rolled once: the same form sent again is refused ("rolled already"), never a second roll.
        const rolled = await db.transaction(async (tx) => {
          const result = await rollApiKey(
            tx,
            credentialCreatorOf(context),
            id,
            DEFAULT_ROLL_OVERLAP_SECONDS,
            clock.now(),
          );
          return result;
        });
        return developersPage(request, reply, context, {
          statusCode: 201,
          revealed: {
            id: rolled.key.id,
            secret: rolled.secret,
            previousId: rolled.previous.id,
            previousExpiresAt: new Date(clock.now().getTime() + DEFAULT_ROLL_OVERLAP_SECONDS * 1000),
          },
        });
      } catch (error) {
        if (error instanceof AppError)
          return developersPage(request, reply, context, { statusCode: 422, error: error.message });
        throw error;
      }
    },
  );

  scope.post(
    '/dashboard/developers/api-keys/:id/revoke',
    { config: NATURAL_POST, schema: { hide: true } },
    async (request, reply) => {
      const context = await writeActionContext(request, 'api_keys');
      const id = (request.params as { id: string }).id;
      try {
        await db.transaction(async (tx) => {
          // The key service audits the change and emits its event, with this person as the actor.
          await revokeApiKey(tx, credentialCreatorOf(context), id, clock.now());
        });
      } catch (error) {
        if (error instanceof AppError) return seeOther(reply, `/dashboard/developers?error=${error.code}`);
        throw error;
      }
      return seeOther(reply, '/dashboard/developers?notice=key_revoked');
    },
  );
}

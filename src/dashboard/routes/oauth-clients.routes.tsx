import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../lib/errors.ts';
import { pooledRandomHex } from '../../lib/random.ts';
import {
  createOAuthClient,
  revokeOAuthClient,
  rollOAuthClientSecret,
} from '../../modules/merchants/api-key.service.ts';
import { listApiClients } from '../../modules/merchants/credential.repository.ts';
import { roleAllows } from '../../modules/users/permissions.ts';
import { isRepeatedForm, recordFormOnce } from '../form-once.ts';
import {
  DashboardRefusal,
  formKeyOf,
  formText,
  NATURAL_POST,
  TRANSACTIONAL_POST,
  type Context,
  pageFeedback,
  formStrings,
  credentialCreatorOf,
} from '../kit.tsx';
import {
  CLIENT_OVERLAP_CHOICES,
  OAuthClientsPage,
  type RevealedClientSecret,
} from '../pages/oauth-clients.tsx';
import type { KassaApp } from '../../http/http.types.ts';
import type { DashboardKit } from '../kit.tsx';

const PATH = '/dashboard/developers/oauth-clients';

const NOTICES: Record<string, string> = {
  revoked: 'The client was revoked: its secret and every token it was given stop working within a second.',
  already_created: 'This form was already sent: its client was created then, and its secret shown once.',
  already_rolled: 'This form was already sent: the secret was rolled then, and the new one shown once.',
};

/**
 * OAuth clients (client id + secret for POST /v1/oauth/tokens) through the key-management service the
 * `/v1/oauth-clients` routes call: create (secret shown once), roll with overlap, revoke. The person's role
 * bounds the scopes a client may get, as a credential's scopes bound what it may create.
 */
export function registerOAuthClientRoutes(scope: KassaApp, kit: DashboardKit) {
  const { db, clock, sendPage, seeOther, readPage, writeActionContext } = kit;

  async function clientsPage(
    request: FastifyRequest,
    reply: FastifyReply,
    context: Context,
    extra: { statusCode?: number; revealed?: RevealedClientSecret; error?: string } = {},
  ) {
    const clients = (await listApiClients(db, context.scope, { limit: 100 })).slice(0, 100);
    return sendPage(reply, extra.statusCode ?? 200, (nonce) => (
      <OAuthClientsPage
        nonce={nonce}
        viewer={context.viewer}
        clients={clients}
        canWrite={roleAllows(context.session.user.role, 'api_keys', 'write')}
        formKeys={{
          create: pooledRandomHex(16),
          roll: Object.fromEntries(clients.map((client) => [client.id, pooledRandomHex(16)])),
        }}
        now={clock.now()}
        revealed={extra.revealed}
        {...pageFeedback(request, NOTICES, extra.error)}
      />
    ));
  }

  readPage(scope, PATH, 'api_keys', clientsPage);

  scope.post(PATH, { config: TRANSACTIONAL_POST, schema: { hide: true } }, async (request, reply) => {
    const context = await writeActionContext(request, 'api_keys');
    const formKey = formKeyOf(request);
    const scopes = formStrings(request, 'scopes');
    const name = formText(request, 'name').trim().slice(0, 100) || null;
    try {
      const created = await db.transaction(async (tx) => {
        // The service records the change (audit and event) with this person as the actor.
        const made = await createOAuthClient(tx, credentialCreatorOf(context), {
          ...(scopes.length > 0 ? { scopes } : {}),
          name,
        });
        await recordFormOnce(tx, request, context.scope, formKey, PATH, { id: made.client.id });
        return made;
      });
      return clientsPage(request, reply, context, {
        statusCode: 201,
        revealed: { id: created.client.id, secret: created.secret },
      });
    } catch (error) {
      if (isRepeatedForm(error)) return seeOther(reply, `${PATH}?notice=already_created`);
      if (error instanceof AppError)
        return clientsPage(request, reply, context, { statusCode: 422, error: error.message });
      throw error;
    }
  });

  scope.post(
    `${PATH}/:id/roll`,
    { config: TRANSACTIONAL_POST, schema: { hide: true } },
    async (request, reply) => {
      const context = await writeActionContext(request, 'api_keys');
      const id = (request.params as { id: string }).id;
      const formKey = formKeyOf(request);
      const overlap = CLIENT_OVERLAP_CHOICES.find(
        (choice) => String(choice.seconds) === formText(request, 'overlap'),
      )?.seconds;
      if (overlap === undefined)
        throw new DashboardRefusal(400, 'Form refused', 'The form is incomplete; reload the page.');
      try {
        const rolled = await db.transaction(async (tx) => {
          const result = await rollOAuthClientSecret(
            tx,
            credentialCreatorOf(context),
            id,
            overlap,
            clock.now(),
          );
          await recordFormOnce(tx, request, context.scope, formKey, request.url, { id });
          return result;
        });
        return clientsPage(request, reply, context, {
          statusCode: 201,
          revealed: {
            id,
            secret: rolled.secret,
            ...(overlap > 0 && rolled.client.previousSecretExpiresAt
              ? { previousExpiresAt: rolled.client.previousSecretExpiresAt }
              : {}),
          },
        });
      } catch (error) {
        if (isRepeatedForm(error)) return seeOther(reply, `${PATH}?notice=already_rolled`);
        if (error instanceof AppError)
          return clientsPage(request, reply, context, { statusCode: 422, error: error.message });
        throw error;
      }
    },
  );

  /** Revoking twice is refused the second time as "not found": the client is gone either way. */
  scope.post(
    `${PATH}/:id/revoke`,
    { config: NATURAL_POST, schema: { hide: true } },
    async (request, reply) => {
      const context = await writeActionContext(request, 'api_keys');
      const id = (request.params as { id: string }).id;
      try {
        await db.transaction((tx) => revokeOAuthClient(tx, credentialCreatorOf(context), id, clock.now()));
      } catch (error) {
        if (error instanceof AppError) return seeOther(reply, `${PATH}?error=${error.code}`);
        throw error;
      }
      return seeOther(reply, `${PATH}?notice=revoked`);
    },
  );
}

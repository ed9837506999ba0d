import { z } from 'zod';
import { ProcessorWebhookError } from '../../connectors/processor.ts';
import { AppError, notFoundError } from '../../lib/errors.ts';
import { findProcessorAccountById } from '../../modules/processor-accounts/processor-account.repository.ts';
import {
  applyProcessorNotifications,
  storeProcessorNotifications,
} from '../../modules/processor-accounts/processor-notifications.ts';
import type { Services } from '../../services.ts';
import type { KassaApp } from '../http.types.ts';
import { idPattern } from '../../lib/ids.ts';

const PROCESSOR_ACCOUNT_ID = idPattern('pa');

const WEBHOOK_BODY_LIMIT = 1024 * 1024;

/**
 * `POST /v1/processor-webhooks/{processor_account_id}`: where a merchant's processor account sends its own
 * webhooks (the account's `webhook_url`). Public: the processor's signature, checked by the account's module
 * over the exact bytes received, is the authentication. Until the account's webhook secret is set, every
 * webhook is refused (the processor retries). A refused webhook changes nothing.
 *
 * Verified notifications are stored first (deduplicated by the processor's event id), the processor is
 * answered with its module's acknowledgement, and the new ones are then applied (docs/processors.md).
 */
export function registerProcessorWebhookRoutes(app: KassaApp, services: Services) {
  void app.register(async (scope) => {
    // The signature covers the raw bytes: no parser may touch them first, whatever the content type.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT },
      (_request, body, done) => done(null, body),
    );

    scope.post(
      '/v1/processor-webhooks/:id',
      {
        config: { auth: 'public', idempotency: 'natural' },
        schema: { hide: true, params: z.object({ id: z.string().max(100) }) },
      },
      async (request, reply) => {
        const { id } = request.params as { id: string };
        const account = PROCESSOR_ACCOUNT_ID.test(id)
          ? await findProcessorAccountById(services.db, id)
          : undefined;
        if (!account) throw notFoundError('processor account', id);
        const module = services.processorModules[account.processor];
        if (!module) throw notFoundError('processor account', id);
        if (!account.webhookSecretSet) {
          throw new AppError(
            'forbidden',
            "This processor account's webhook secret is not set yet: set it with PATCH /v1/processor-accounts/{id}",
          );
        }
        const headers: Record<string, string | undefined> = {};
        for (const [name, value] of Object.entries(request.headers))
          headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
        const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        let verified;
        try {
          verified = module.verifyWebhook({
            rawBody,
            headers,
            credentials: services.processorAccounts.openCredentials(account),
            livemode: account.livemode,
            now: services.clock.now(),
          });
        } catch (error) {
          if (!(error instanceof ProcessorWebhookError)) throw error;
          request.log.warn({ processorAccountId: id, reason: error.reason }, 'processor webhook refused');
          if (error.reason === 'malformed') throw new AppError('invalid_request', error.message);
          // Authentic, but of the other mode than the account's: a misregistered webhook, refused as a bad request.
          if (error.reason === 'livemode_mismatch') {
            throw new AppError('invalid_request', error.message, { extensions: { reason: error.reason } });
          }
          throw new AppError('invalid_signature', error.message, { extensions: { reason: error.reason } });
        }
        const fresh = await storeProcessorNotifications(services.db, account.id, verified.notifications);
        await reply.code(200).type(verified.acknowledgement.contentType).send(verified.acknowledgement.body);
        // Answered: the processor will not send these again. Applied now; what fails is retried by the worker.
        void applyProcessorNotifications(
          services.db,
          services.payments.applyProcessorNotification,
          account.id,
          fresh,
        ).catch((error: unknown) =>
          request.log.error(
            { err: error, processorAccountId: id },
            'applying processor notifications failed',
          ),
        );
        return reply;
      },
    );
  });
}

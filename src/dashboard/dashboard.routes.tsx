import { AppError } from '../lib/errors.ts';
import type { KassaApp } from '../http/http.types.ts';
import { createCspNonce } from '../http/pages/page-security.ts';
import type { Services } from '../services.ts';
import { createDashboardKit, DashboardRefusal } from './kit.tsx';
import { ErrorPage } from './pages/sign-in.tsx';
import { registerAccountRoutes } from './routes/account.routes.tsx';
import { registerCheckoutRoutes } from './routes/checkouts.routes.tsx';
import { registerDeveloperRoutes } from './routes/developers.routes.tsx';
import { registerEventRoutes } from './routes/events.routes.tsx';
import { registerModeRoutes } from './routes/mode.routes.tsx';
import { registerOAuthClientRoutes } from './routes/oauth-clients.routes.tsx';
import { registerOrderExportRoutes } from './routes/orders-export.routes.tsx';
import { registerOrderRoutes } from './routes/orders.routes.tsx';
import { registerPaymentLinkRoutes } from './routes/payment-links.routes.tsx';
import { registerProcessorAccountRoutes } from './routes/processor-accounts.routes.tsx';
import { registerSettingsRoutes } from './routes/settings.routes.tsx';
import { registerSignInRoutes } from './routes/sign-in.routes.tsx';
import { registerWebhookRoutes } from './routes/webhooks.routes.tsx';
import { registerAuditLogRoutes } from './routes/audit-log.routes.tsx';
import { registerTeamRoutes } from './routes/team.routes.tsx';
import { registerTwoFactorRoutes } from './routes/two-factor.routes.tsx';
import { registerStepUpRoutes } from './step-up.tsx';

/**
 * The merchant dashboard at `/dashboard` (docs/dashboard.md): server-rendered pages in the gateway's own
 * process, over the same database and services as the API. Plain HTML forms POST and answer 303; every form
 * carries a CSRF token bound to the session; every action checks the person's role (as API scopes) on the
 * server, and calls the same application service the API route calls. Each area of the dashboard has its own
 * route file under `routes/`; what they share is the kit (`kit.tsx`).
 */
export function registerDashboardRoutes(app: KassaApp, services: Services) {
  const kit = createDashboardKit(services);

  app.register(async (scope) => {
    // Errors answer as the dashboard's own page, never as the API's problem document.
    scope.setErrorHandler(async (error, request, reply) => {
      const nonce = createCspNonce();
      if (error instanceof DashboardRefusal) {
        await kit.send(
          reply,
          error.statusCode,
          nonce,
          <ErrorPage
            nonce={nonce}
            title={error.title}
            message={error.message}
            signedIn={error.statusCode !== 401}
          />,
        );
        return;
      }
      const appError = error instanceof AppError ? error : undefined;
      if (!appError) request.log.error({ err: error }, 'dashboard page failed');
      const status = appError?.status ?? 500;
      await kit.send(
        reply,
        status,
        nonce,
        <ErrorPage
          nonce={nonce}
          title={status === 404 ? 'Not found' : 'Something went wrong'}
          message={appError ? appError.message : 'The page could not be shown. Try again in a moment.'}
          signedIn
        />,
      );
    });

    registerSignInRoutes(scope, kit);
    registerOrderRoutes(scope, kit);
    registerDeveloperRoutes(scope, kit);
    registerOAuthClientRoutes(scope, kit);
    registerWebhookRoutes(scope, kit);
    registerEventRoutes(scope, kit);
    registerProcessorAccountRoutes(scope, kit);
    registerAccountRoutes(scope, kit);
    // Shop: settings, the test/live switch, checkouts, payment links, the orders CSV.
    registerSettingsRoutes(scope, kit);
    registerModeRoutes(scope, kit);
    registerCheckoutRoutes(scope, kit);
    registerPaymentLinkRoutes(scope, kit);
    registerOrderExportRoutes(scope, kit);
    registerTwoFactorRoutes(scope, kit);
    registerStepUpRoutes(scope, kit);
    registerTeamRoutes(scope, kit);
    registerAuditLogRoutes(scope, kit);
  });
}

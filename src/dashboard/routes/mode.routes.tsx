import { DashboardRefusal, formText, NATURAL_POST, userActor } from '../kit.tsx';
import { liveModeRefusal, setSessionMode } from '../mode.ts';
import type { KassaApp } from '../../http/http.types.ts';
import type { DashboardKit } from '../kit.tsx';

/**
 * The test/live switch in the page frame: the form names the mode wanted (not "toggle"), so sending it twice
 * leaves the session in that mode. Every page reads the mode from the session, so all of them follow.
 */
export function registerModeRoutes(scope: KassaApp, kit: DashboardKit) {
  scope.post('/dashboard/mode', { config: NATURAL_POST, schema: { hide: true } }, async (request, reply) => {
    const context = await kit.actionContext(request);
    const mode = formText(request, 'mode');
    if (mode !== 'live' && mode !== 'test')
      throw new DashboardRefusal(400, 'Form refused', 'Choose test or live mode.');
    const livemode = mode === 'live';
    const refusal = livemode ? liveModeRefusal(context.session.user) : undefined;
    if (refusal) throw new DashboardRefusal(403, 'Not allowed', refusal);
    if (livemode !== context.scope.livemode) {
      await setSessionMode(kit.db, context.session.idHash, livemode);
      await kit.audit(request, {
        merchantId: context.scope.merchantId,
        actor: userActor(context.session),
        action: 'user.mode_switched',
        objectType: 'user',
        objectId: context.session.user.id,
        details: { livemode },
      });
    }
    // Back to Home: the page the switch was pressed on may show an object of the other mode.
    return kit.seeOther(reply, '/dashboard');
  });
}

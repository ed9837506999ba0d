import { AppError } from '../lib/errors.ts';
import type { Connector } from './connector.ts';

/**
 * id → connector, and which connector serves each mode. Payments store the id of the connector that
 * authorised them, so later captures and refunds go to `get(id)` even if the mode's default changes.
 */
export type ConnectorRegistry = {
  get(id: string): Connector;
  connectorFor(options: { livemode: boolean }): Connector;
  list(): readonly Connector[];
};

export type ConnectorRegistryOptions = {
  connectors: readonly Connector[];
  /** Serves test mode; normally `sandbox`. */
  testConnectorId: string;
  /** Serves live mode. Absent: live payments are refused. Must be a connector that supports live mode. */
  liveConnectorId?: string;
};

/** Throws at startup (not at the first payment) when the configuration is inconsistent. */
export function createConnectorRegistry(options: ConnectorRegistryOptions): ConnectorRegistry {
  const byId = new Map<string, Connector>();
  for (const connector of options.connectors) {
    if (byId.has(connector.id)) throw new Error(`Connector id "${connector.id}" is registered twice`);
    byId.set(connector.id, connector);
  }

  const lookUp = (id: string): Connector => {
    const connector = byId.get(id);
    if (!connector) throw new Error(`No connector with id "${id}" is registered`);
    return connector;
  };

  const testConnector = lookUp(options.testConnectorId);
  const liveConnector = options.liveConnectorId === undefined ? undefined : lookUp(options.liveConnectorId);
  if (liveConnector && !liveConnector.capabilities.livemode) {
    throw new Error(
      `Connector "${liveConnector.id}" cannot serve live mode: it is a test-only connector and never moves real money`,
    );
  }

  return {
    get: lookUp,
    connectorFor({ livemode }) {
      if (!livemode) return testConnector;
      if (!liveConnector) {
        throw new AppError(
          'livemode_not_allowed',
          'No live payment processor is configured; the sandbox acquirer serves test mode only',
        );
      }
      return liveConnector;
    },
    list: () => [...byId.values()],
  };
}

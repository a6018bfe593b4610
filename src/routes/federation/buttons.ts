// The connectors' buttons on the login and registration pages: one per connector, in the
// order they were added, each naming its provider, posting to the interaction's start route.
import { message } from '#src/messages/index.ts';
import type { ConnectorService } from '#src/services/federation/connectors.ts';

export interface ConnectorButtons {
  action: string;
  items: Array<{ id: string; label: string }>;
}

export async function connectorButtons(connectors: Pick<ConnectorService, 'all'>, uid: string): Promise<ConnectorButtons> {
  return {
    action: `/interaction/${uid}/federation/start`,
    items: (await connectors.all()).map((connector) => ({ id: connector.id, label: message('page.connect.button', { name: connector.name }) })),
  };
}

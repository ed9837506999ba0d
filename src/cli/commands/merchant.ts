import { bootstrap } from '../../bootstrap.ts';
import { createMerchantWithCredentials } from '../../modules/merchants/merchant.service.ts';
import { loadCliConfig } from '../context.ts';
import { UsageError } from '../errors.ts';
import { print, quietLogger } from '../output.ts';
import type { CommandRun } from '../spec.ts';

/** `kassa merchant create --name NAME [--live] [--json]`: a merchant and its first credentials. */
export const createMerchant: CommandRun = async ({ options }) => {
  const name = typeof options.name === 'string' ? options.name.trim() : '';
  if (!name || name.length > 200) {
    throw new UsageError('merchant create needs --name NAME (1–200 characters)', ['merchant', 'create']);
  }
  const config = loadCliConfig();
  const { services, database } = await bootstrap(config, quietLogger);
  const { merchant, credentials } = await services.db.transaction((tx) =>
    createMerchantWithCredentials(tx, { name, livemode: options.live === true }),
  );
  await database.close();
  if (options.json) {
    print(
      JSON.stringify(
        {
          merchant_id: merchant.id,
          name: merchant.name,
          livemode: credentials.livemode,
          client_id: credentials.clientId,
          client_secret: credentials.clientSecret,
          api_key: credentials.apiKey,
        },
        null,
        2,
      ),
    );
  } else {
    print(`Merchant ${merchant.name} (${merchant.id}), ${credentials.livemode ? 'LIVE' : 'test'} mode`);
    print(`  client_id:     ${credentials.clientId}`);
    print(`  client_secret: ${credentials.clientSecret}`);
    print(`  API key:       ${credentials.apiKey}`);
    print('The secrets are shown only now; store them safely.');
  }
};

import { bootstrap } from '../../bootstrap.ts';
import { openDatabase } from '../../db/open.ts';
import { setCardDataPermitted } from '../../modules/merchants/merchant.repository.ts';
import { createMerchantWithCredentials } from '../../modules/merchants/merchant.service.ts';
import { loadCliConfig } from '../context.ts';
import { CommandError, UsageError } from '../errors.ts';
import { print, quietLogger } from '../output.ts';
import type { CommandRun } from '../spec.ts';

/** `kassa merchant create --name NAME [--live] [--card-data] [--json]`: a merchant and its first credentials. */
export const createMerchant: CommandRun = async ({ options }) => {
  const name = typeof options.name === 'string' ? options.name.trim() : '';
  if (!name || name.length > 200) {
    throw new UsageError('merchant create needs --name NAME (1–200 characters)', ['merchant', 'create']);
  }
  const config = loadCliConfig();
  const { services, database } = await bootstrap(config, quietLogger);
  const { merchant, credentials } = await services.db.transaction((tx) =>
    createMerchantWithCredentials(tx, {
      name,
      livemode: options.live === true,
      cardDataPermitted: options['card-data'] === true,
    }),
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
          card_data_permitted: merchant.cardDataPermitted,
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

/** `kassa merchant update ID --card-data on|off`: the operator's switch for raw card data. */
export const updateMerchant: CommandRun = async ({ args: [merchantId], options }) => {
  const cardData = options['card-data'];
  if (cardData !== 'on' && cardData !== 'off')
    throw new UsageError('--card-data must be on or off', ['merchant', 'update']);
  const config = loadCliConfig();
  const database = await openDatabase(config, quietLogger);
  try {
    const merchant = await setCardDataPermitted(database.db, merchantId!, cardData === 'on');
    if (!merchant) throw new CommandError(`no merchant ${merchantId}`);
    print(
      `${merchant.name} (${merchant.id}): raw card data ${merchant.cardDataPermitted ? 'allowed' : 'not allowed'} ` +
        '(running gateways apply it within 1 second)',
    );
  } finally {
    await database.close();
  }
};

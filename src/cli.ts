import { parseArgs } from 'node:util';
import { bootstrap } from './bootstrap.ts';
import { ConfigError, loadConfig } from './config.ts';
import { openDatabase } from './db/open.ts';
import { closeOnSignals, serve } from './main.ts';
import { revokeCredential } from './modules/merchants/credential.repository.ts';
import { setCardDataPermitted } from './modules/merchants/merchant.repository.ts';
import { createMerchantWithCredentials } from './modules/merchants/merchant.service.ts';

const USAGE = `Usage: kassa <command> [options]

Commands:
  serve                                   Start the gateway (embedded PostgreSQL unless DATABASE_URL is set)
  migrate                                 Apply pending database migrations
  merchant create --name NAME [--live] [--card-data] [--json]
                                          Create a merchant with a client id, client secret and secret API key;
                                          --card-data lets it send raw card data to POST /v1/payments
  merchant update ID --card-data on|off   Allow or refuse raw card data (the Processor API) for a merchant
  credentials revoke ID                   Revoke an OAuth client (cli_…) or an API key (key_…)
  keys rotate                             Start signing access tokens with a new key (old tokens stay valid)

Configuration comes from the environment: PORT, DATABASE_URL, KASSA_DATA_DIR, KASSA_MASTER_KEY, … (see README).`;

const quietLogger = { info: () => {}, warn: (message: string) => console.error(`warning: ${message}`) };

async function main(argv: string[]) {
  const [command, subcommand, ...rest] = argv;
  const config = loadConfig();
  switch (command) {
    case 'serve': {
      const signals = closeOnSignals(); // before anything starts: see closeOnSignals
      signals.attach(await serve(config));
      return;
    }
    case 'migrate': {
      const database = await openDatabase(config, quietLogger);
      const { applied, alreadyApplied } = database.migrations;
      console.log(
        applied.length ? `applied: ${applied.join(', ')}` : `up to date (${alreadyApplied} migrations)`,
      );
      await database.close();
      return;
    }
    case 'merchant': {
      if (subcommand === 'update') {
        await updateMerchant(config, rest);
        return;
      }
      if (subcommand !== 'create') break;
      const { values } = parseArgs({
        args: rest,
        options: {
          name: { type: 'string' },
          live: { type: 'boolean', default: false },
          'card-data': { type: 'boolean', default: false },
          json: { type: 'boolean', default: false },
        },
      });
      const name = values.name?.trim();
      if (!name || name.length > 200)
        throw new UsageError('merchant create needs --name NAME (1–200 characters)');
      const { services, database } = await bootstrap(config, quietLogger);
      const { merchant, credentials } = await services.db.transaction((tx) =>
        createMerchantWithCredentials(tx, {
          name,
          livemode: values.live,
          cardDataPermitted: values['card-data'],
        }),
      );
      await database.close();
      if (values.json) {
        console.log(
          JSON.stringify(
            {
              merchant_id: merchant.id,
              name: merchant.name,
              livemode: credentials.livemode,
              card_data_permitted: merchant.cardDataPermitted,
              client_id: credentials.clientId,
              client_secret: credentials.clientSecret,
              api_key: credentials.apiKey,
            },
            null,
            2,
          ),
        );
      } else {
        console.log(
          `Merchant ${merchant.name} (${merchant.id}), ${credentials.livemode ? 'LIVE' : 'test'} mode, ` +
            `raw card data ${merchant.cardDataPermitted ? 'allowed' : 'not allowed'}`,
        );
        console.log(`  client_id:     ${credentials.clientId}`);
        console.log(`  client_secret: ${credentials.clientSecret}`);
        console.log(`  API key:       ${credentials.apiKey}`);
        console.log('The secrets are shown only now; store them safely.');
      }
      return;
    }
    case 'credentials': {
      if (subcommand !== 'revoke' || !rest[0]) break;
      const database = await openDatabase(config, quietLogger);
      const revoked = await revokeCredential(database.db, rest[0]);
      await database.close();
      if (!revoked) throw new UsageError(`no active credential ${rest[0]}`);
      console.log(`revoked ${rest[0]} (cached sessions end within 30 seconds)`);
      return;
    }
    case 'keys': {
      if (subcommand !== 'rotate') break;
      const { services, database } = await bootstrap(config, quietLogger);
      const { kid, signsFrom } = await services.signingKeys.rotate();
      await database.close();
      console.log(
        `new signing key ${kid} is published in JWKS now and signs tokens from ${signsFrom.toISOString()};`,
      );
      console.log('tokens signed by the previous key stay valid until they expire');
      return;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return;
  }
  throw new UsageError(`unknown command: ${argv.join(' ')}`);
}

class UsageError extends Error {}

async function updateMerchant(config: ReturnType<typeof loadConfig>, args: string[]) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { 'card-data': { type: 'string' } },
  });
  const [merchantId, ...extra] = positionals;
  const cardData = values['card-data'];
  if (!merchantId || extra.length > 0 || (cardData !== 'on' && cardData !== 'off'))
    throw new UsageError('merchant update needs a merchant id (mer_…) and --card-data on|off');
  const database = await openDatabase(config, quietLogger);
  try {
    const merchant = await setCardDataPermitted(database.db, merchantId, cardData === 'on');
    if (!merchant) throw new UsageError(`no merchant ${merchantId}`);
    console.log(
      `${merchant.name} (${merchant.id}): raw card data ${merchant.cardDataPermitted ? 'allowed' : 'not allowed'} ` +
        '(running gateways apply it within 1 second)',
    );
  } finally {
    await database.close();
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError) {
    console.error(`kassa: ${error.message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (error instanceof ConfigError) {
    console.error(`kassa: ${error.message}`);
    process.exit(2);
  }
  console.error('kassa: failed:', error);
  process.exit(1);
});

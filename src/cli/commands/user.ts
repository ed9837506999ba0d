import { openDatabase } from '../../db/open.ts';
import { isRole, ROLES } from '../../modules/users/permissions.ts';
import { createUser, generatePassword, UserInputError } from '../../modules/users/users.ts';
import { findMerchantById } from '../../modules/merchants/merchant.repository.ts';
import { loadCliConfig } from '../context.ts';
import { CommandError, UsageError } from '../errors.ts';
import { print, quietLogger } from '../output.ts';
import type { CommandRun } from '../spec.ts';

/**
 * `kassa user create --merchant ID --email E --role R [--password P] [--json]`: a person who signs in to the
 * dashboard at /dashboard. Without --password a random one is generated and printed once.
 */
export const createDashboardUser: CommandRun = async ({ options }) => {
  const role = options.role;
  if (!isRole(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`, ['user', 'create']);
  const merchantId = String(options.merchant);
  const email = String(options.email);
  const generated = typeof options.password !== 'string';
  const password = typeof options.password === 'string' ? options.password : generatePassword();
  const database = await openDatabase(loadCliConfig(), quietLogger);
  try {
    if (!(await findMerchantById(database.db, merchantId)))
      throw new CommandError(`no merchant ${merchantId}`);
    const user = await createUser(database.db, { merchantId, email, role, password, now: new Date() }).catch(
      (error: unknown) => {
        if (error instanceof UserInputError) throw new CommandError(error.message);
        throw error;
      },
    );
    if (options.json) {
      print(
        JSON.stringify(
          {
            id: user.id,
            object: 'dashboard_user',
            merchant_id: user.merchantId,
            email: user.email,
            role: user.role,
            created_at: user.createdAt.toISOString(),
            ...(generated ? { password } : {}),
          },
          null,
          2,
        ),
      );
    } else {
      print(`Dashboard user ${user.email} (${user.id}), ${user.role} of ${user.merchantId}`);
      if (generated) {
        print(`  password: ${password}`);
        print('The password is shown only now; ask the person to change it after signing in.');
      }
    }
  } finally {
    await database.close();
  }
};

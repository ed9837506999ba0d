import { openDatabase } from '../../db/open.ts';
import { isRole, ROLES } from '../../modules/users/permissions.ts';
import { recordAuditNow } from '../../modules/audit/audit.service.ts';
import { resetTwoFactor } from '../../modules/users/two-factor.ts';
import {
  createUser,
  findUserByEmail,
  findUserById,
  generatePassword,
  UserInputError,
} from '../../modules/users/users.ts';
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

/**
 * `kassa user reset-2fa --email E | --user ID [--json]`: recovery for a person who lost their authenticator
 * and their recovery codes. Their secret, recovery codes and sessions go; the act is audited as the CLI's.
 */
export const resetDashboardUserTwoFactor: CommandRun = async ({ options }) => {
  const email = typeof options.email === 'string' ? options.email : undefined;
  const userId = typeof options.user === 'string' ? options.user : undefined;
  if ((email === undefined) === (userId === undefined))
    throw new UsageError('name the person with exactly one of --email or --user', ['user', 'reset-2fa']);
  const database = await openDatabase(loadCliConfig(), quietLogger);
  try {
    const user = email ? await findUserByEmail(database.db, email) : await findUserById(database.db, userId!);
    if (!user) throw new CommandError(`no dashboard user ${email ?? userId}`);
    const wasEnabled = user.totpEnabled;
    await database.db.transaction(async (tx) => {
      await resetTwoFactor(tx, user.id, new Date());
      await recordAuditNow(tx, {
        merchantId: user.merchantId,
        action: 'user.two_factor_reset',
        objectType: 'dashboard_user',
        objectId: user.id,
        details: { was_enabled: wasEnabled },
      });
    });
    if (options.json) {
      print(
        JSON.stringify(
          {
            id: user.id,
            object: 'dashboard_user',
            email: user.email,
            two_factor_enabled: false,
            was_enabled: wasEnabled,
          },
          null,
          2,
        ),
      );
    } else {
      print(
        `Two-factor authentication of ${user.email} (${user.id}) is off${wasEnabled ? '' : ' (it was not on)'}; ` +
          'their sessions are signed out.',
      );
      if (user.role === 'owner') print('As an owner they set it up again at their next sign-in.');
    }
  } finally {
    await database.close();
  }
};

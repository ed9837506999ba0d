import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Database } from '../../db/client.ts';
import { createUser, findUserByEmail, generatePassword } from './users.ts';

/**
 * The development gateway's demo dashboard login: an owner of the demo merchant, created on first start with a
 * random password kept in `<dataDir>/demo-dashboard.json` (mode 0600) so every start-up banner can print it,
 * like the demo merchant's keys. Never in production (there is no demo merchant there).
 */

export const DEMO_DASHBOARD_EMAIL = 'demo@kassa.test';

export type DemoDashboardLogin = { email: string; password: string | undefined };

export async function ensureDemoDashboardUser(
  db: Database,
  dataDir: string,
  merchantId: string,
  now: Date,
): Promise<DemoDashboardLogin> {
  const file = path.join(dataDir, 'demo-dashboard.json');
  const existing = await findUserByEmail(db, DEMO_DASHBOARD_EMAIL);
  if (existing) {
    const saved = existsSync(file)
      ? (JSON.parse(await readFile(file, 'utf8')) as { email?: string; password?: string; userId?: string })
      : undefined;
    return {
      email: DEMO_DASHBOARD_EMAIL,
      password: saved?.userId === existing.id ? saved.password : undefined,
    };
  }
  const password = generatePassword();
  try {
    const user = await createUser(db, {
      merchantId,
      email: DEMO_DASHBOARD_EMAIL,
      role: 'owner',
      password,
      now,
    });
    await writeFile(file, `${JSON.stringify({ email: user.email, password, userId: user.id }, null, 2)}\n`, {
      mode: 0o600,
    });
    return { email: DEMO_DASHBOARD_EMAIL, password };
  } catch {
    // Another process of the same gateway created it at the same moment: its file holds the password.
    return { email: DEMO_DASHBOARD_EMAIL, password: undefined };
  }
}

import { resolve } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/**
 * The lint rule of eslint.config.js that keeps each module's repositories its own: another module goes through
 * the owner's service. Linted as if the text were a file of src/modules/orders/.
 */
const ROOT = resolve(import.meta.dirname, '../../..');
const eslint = new ESLint({ cwd: ROOT });

async function boundaryErrors(text: string, file = 'src/modules/orders/probe.ts') {
  const [result] = await eslint.lintText(text, { filePath: resolve(ROOT, file) });
  return result!.messages.filter((message) => message.ruleId === 'boundaries/dependencies');
}

describe('module boundaries', () => {
  it("refuse a module importing another module's repository", async () => {
    const errors = await boundaryErrors(
      "import { findMerchantById } from '../merchants/merchant.repository.ts';\nexport const f = findMerchantById;\n",
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toContain('module="merchants"');
  }, 60_000);

  it('allow its own repository and the other module’s service', async () => {
    const errors = await boundaryErrors(
      [
        "import { findOrder } from './order.repository.ts';",
        "import { findMerchantById } from '../merchants/merchant.service.ts';",
        'export const f = [findOrder, findMerchantById];',
        '',
      ].join('\n'),
    );
    expect(errors).toEqual([]);
  }, 60_000);
});

import type { Page } from 'playwright-core';
import { axeViolations as runAxe, WCAG_AA_TAGS } from '../fixtures/axe.ts';

/**
 * The shopper pages are held to WCAG 2.0, 2.1 and 2.2 A and AA and to axe's best practices as well. Every rule
 * is on; none is disabled.
 */
export const AXE_TAGS = [...WCAG_AA_TAGS, 'best-practice'];

/** The violations on the page as one line each (rule, impact, what it asks, the first few elements). */
export async function axeViolations(page: Page): Promise<string[]> {
  const violations = await runAxe(page, AXE_TAGS);
  return violations.map(
    (violation) =>
      `${violation.id} (${violation.impact}): ${violation.help} — ${violation.targets.slice(0, 4).join(' | ')}`,
  );
}

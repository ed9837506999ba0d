import { raw } from '../../lib/html.ts';
import type { SafeHtml } from '../../lib/html.ts';

/**
 * Inline SVG icons, drawn for these pages (no icon font, no third-party asset). Each is decorative: hidden
 * from assistive technology, because the text next to it already says what it means.
 */

const ICON_PATHS = {
  card: '<rect x="2.5" y="5" width="19" height="14" rx="2.5"/><path d="M2.5 10h19M6.5 15h4"/>',
  invoice: '<path d="M6 2.5h8.5l4 4V21.5H6z"/><path d="M14 2.5V7h4.5M9 12h6.5M9 16h4.5"/>',
  wallet:
    '<path d="M4 7.5h15a1.5 1.5 0 0 1 1.5 1.5v9.5A1.5 1.5 0 0 1 19 20H5.5A1.5 1.5 0 0 1 4 18.5z"/><path d="M4 7.5V6.5A2 2 0 0 1 6 4.5h10v3"/><path d="M20.5 11.5h-4a2 2 0 0 0 0 4h4"/>',
  lock: '<rect x="5" y="10.5" width="14" height="10" rx="2"/><path d="M8.5 10.5V7.5a3.5 3.5 0 0 1 7 0v3"/>',
  check: '<circle cx="12" cy="12" r="9.5"/><path d="M8 12.5l2.75 2.75L16.5 9.5"/>',
  clock: '<circle cx="12" cy="12" r="9.5"/><path d="M12 7v5.25l3.25 2"/>',
  cross: '<circle cx="12" cy="12" r="9.5"/><path d="M15 9l-6 6M9 9l6 6"/>',
  alert: '<circle cx="12" cy="12" r="9.5"/><path d="M12 7.5v5.5M12 16.25v.25"/>',
  chevron: '<path d="M7 9.5l5 5 5-5"/>',
  shield:
    '<path d="M12 2.75l7.5 3v6c0 4.4-3.2 8.2-7.5 9.5-4.3-1.3-7.5-5.1-7.5-9.5v-6z"/><path d="M8.75 12l2.25 2.25 4.25-4.5"/>',
} as const;

export type IconName = keyof typeof ICON_PATHS;

export function renderIcon(name: IconName, className = 'icon'): SafeHtml {
  return raw(
    `<svg class="${className}" viewBox="0 0 24 24" width="24" height="24" fill="none" stroke="currentColor" stroke-width="1.75" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">${ICON_PATHS[name]}</svg>`,
  );
}

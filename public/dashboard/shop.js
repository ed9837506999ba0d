// Kassa dashboard, shop pages: niceties over pages that work without it (src/dashboard/pages/payment-links.tsx,
// settings.tsx). A copy button for a payment link's address; the branding preview redrawn as one types.
// Plain ES2020, no dependencies, no network requests but the same-origin preview frame.
(() => {
  'use strict';

  for (const button of document.querySelectorAll('button[data-copy]')) {
    const source = document.getElementById(button.dataset.copy);
    const status = document.querySelector(`[data-copy-status="${button.dataset.copy}"]`);
    if (!source || !window.navigator.clipboard) continue;
    button.hidden = false;
    button.addEventListener('click', () => {
      window.navigator.clipboard.writeText(source.value).then(
        () => {
          if (status) status.textContent = 'Link copied.';
        },
        () => {
          source.select();
          if (status) status.textContent = 'Select the link and copy it.';
        },
      );
    });
  }

  const form = document.getElementById('branding-form');
  const frame = document.querySelector('iframe[name="branding-preview"]');
  if (form && frame) {
    let timer;
    const redraw = () => {
      const query = new window.URLSearchParams();
      for (const name of ['display_name', 'logo_url', 'primary_color']) {
        query.set(name, form.elements.namedItem(name).value);
      }
      frame.src = `/dashboard/settings/preview?${query}`;
    };
    form.addEventListener('input', () => {
      window.clearTimeout(timer);
      timer = window.setTimeout(redraw, 400);
    });
  }
})();

/*! Kassa browser SDK v1 (/sdk/v1/kassa.js) | MIT | docs: docs/sdk.md */
// Shows a checkout's eligible payment methods on the merchant's own page and sends the shopper to Kassa's
// secure page to pay. Card data never touches the merchant's page: this script renders radio buttons only.
// Plain ES2019, no dependencies, no build step, no cookies, no storage but one sessionStorage entry for
// initFromQR. The file at a versioned path never changes (merchants pin its SRI hash); fixes ship as /sdk/v2/.
(function (root) {
  'use strict';

  var VERSION = '1.0.0';
  var SDK_PATH = /\/sdk\/v1\/kassa\.js(?:[?#].*)?$/;
  var QR_STORAGE_KEY = 'kassa:qr-session';

  // Where this script was loaded from is where the API is: captured now, while currentScript is set.
  var scriptBaseUrl = (function () {
    var script = root.document && root.document.currentScript;
    var src = script && script.src;
    return src && SDK_PATH.test(src) ? src.replace(SDK_PATH, '') : null;
  })();

  /** Every failure is a KassaError with a stable `code` (see kassa.d.ts). */
  class KassaError extends Error {
    constructor(code, message, details) {
      super(message);
      this.name = 'KassaError';
      this.code = code;
      this.status = details && details.status !== undefined ? details.status : null;
      this.problem = details && details.problem !== undefined ? details.problem : null;
    }
  }

  var TEXTS = {
    en: {
      legend: 'Payment method',
      methods: {
        card: ['Card', 'Pay with a credit or debit card.'],
        invoice: ['Invoice', 'Pay later. You will receive an invoice.'],
        wallet: ['Wallet', 'Approve the payment in your wallet app.'],
      },
      note: 'You will enter your payment details on the secure Kassa payment page.',
      proceed: 'Continue to secure payment',
      choose: 'Choose a payment method.',
      total: 'Total',
    },
    'es-419': {
      legend: 'Método de pago',
      methods: {
        card: ['Tarjeta', 'Paga con tarjeta de crédito o débito.'],
        invoice: ['Factura', 'Paga después. Recibirás una factura.'],
        wallet: ['Billetera digital', 'Aprueba el pago en tu billetera digital.'],
      },
      note: 'Ingresarás los datos de pago en la página segura de Kassa.',
      proceed: 'Continuar al pago seguro',
      choose: 'Elige un método de pago.',
      total: 'Total',
    },
    'es-ES': {
      legend: 'Método de pago',
      methods: {
        card: ['Tarjeta', 'Paga con tarjeta de crédito o débito.'],
        invoice: ['Factura', 'Paga después. Recibirás una factura.'],
        wallet: ['Monedero', 'Aprueba el pago en tu monedero digital.'],
      },
      note: 'Introducirás los datos de pago en la página segura de Kassa.',
      proceed: 'Continuar al pago seguro',
      choose: 'Elige un método de pago.',
      total: 'Total',
    },
    da: {
      legend: 'Betalingsmetode',
      methods: {
        card: ['Kort', 'Betal med betalings- eller kreditkort.'],
        invoice: ['Faktura', 'Betal senere. Du får tilsendt en faktura.'],
        wallet: ['Wallet', 'Godkend betalingen i din wallet-app.'],
      },
      note: 'Du indtaster dine betalingsoplysninger på Kassas sikre betalingsside.',
      proceed: 'Fortsæt til sikker betaling',
      choose: 'Vælg en betalingsmetode.',
      total: 'I alt',
    },
    de: {
      legend: 'Zahlungsart',
      methods: {
        card: ['Karte', 'Mit Kredit- oder Debitkarte bezahlen.'],
        invoice: ['Rechnung', 'Später bezahlen. Sie erhalten eine Rechnung.'],
        wallet: ['Wallet', 'Bestätigen Sie die Zahlung in Ihrer Wallet-App.'],
      },
      note: 'Sie geben Ihre Zahlungsdaten auf der sicheren Zahlungsseite von Kassa ein.',
      proceed: 'Weiter zur sicheren Zahlung',
      choose: 'Wählen Sie eine Zahlungsart.',
      total: 'Gesamt',
    },
    fr: {
      legend: 'Moyen de paiement',
      methods: {
        card: ['Carte', 'Payez par carte bancaire, de crédit ou de débit.'],
        invoice: ['Facture', 'Payez plus tard. Vous recevrez une facture.'],
        wallet: ['Portefeuille', 'Validez le paiement dans votre application de portefeuille.'],
      },
      note: 'Vous saisirez vos informations de paiement sur la page de paiement sécurisée de Kassa.',
      proceed: 'Continuer vers le paiement sécurisé',
      choose: 'Choisissez un moyen de paiement.',
      total: 'Total',
    },
    nl: {
      legend: 'Betaalmethode',
      methods: {
        card: ['Kaart', 'Betaal met een creditcard of debitcard.'],
        invoice: ['Factuur', 'Achteraf betalen. Je ontvangt een factuur.'],
        wallet: ['Wallet', 'Keur de betaling goed in je wallet-app.'],
      },
      note: 'Je voert je betaalgegevens in op de beveiligde betaalpagina van Kassa.',
      proceed: 'Verder naar veilig betalen',
      choose: 'Kies een betaalmethode.',
      total: 'Totaal',
    },
    sv: {
      legend: 'Betalsätt',
      methods: {
        card: ['Kort', 'Betala med kredit- eller betalkort.'],
        invoice: ['Faktura', 'Betala senare. Du får en faktura.'],
        wallet: ['Plånbok', 'Godkänn betalningen i din plånboksapp.'],
      },
      note: 'Du anger dina betalningsuppgifter på Kassas säkra betalningssida.',
      proceed: 'Fortsätt till säker betalning',
      choose: 'Välj ett betalsätt.',
      total: 'Totalt',
    },
    nb: {
      legend: 'Betalingsmåte',
      methods: {
        card: ['Kort', 'Betal med kreditt- eller debetkort.'],
        invoice: ['Faktura', 'Betal senere. Du får en faktura.'],
        wallet: ['Lommebok', 'Godkjenn betalingen i lommebokappen din.'],
      },
      note: 'Du legger inn betalingsopplysningene dine på Kassas sikre betalingsside.',
      proceed: 'Fortsett til sikker betaling',
      choose: 'Velg en betalingsmåte.',
      total: 'Totalt',
    },
    fi: {
      legend: 'Maksutapa',
      methods: {
        card: ['Kortti', 'Maksa luotto- tai debit-kortilla.'],
        invoice: ['Lasku', 'Maksa myöhemmin. Saat laskun.'],
        wallet: ['Lompakko', 'Hyväksy maksu lompakkosovelluksessasi.'],
      },
      note: 'Syötät maksutietosi Kassan suojatulla maksusivulla.',
      proceed: 'Jatka suojattuun maksuun',
      choose: 'Valitse maksutapa.',
      total: 'Yhteensä',
    },
    it: {
      legend: 'Metodo di pagamento',
      methods: {
        card: ['Carta', 'Paga con carta di credito o di debito.'],
        invoice: ['Fattura', 'Paga dopo. Riceverai una fattura.'],
        wallet: ['Wallet', 'Approva il pagamento nella tua app wallet.'],
      },
      note: 'Inserirai i dati di pagamento nella pagina di pagamento sicura di Kassa.',
      proceed: 'Continua al pagamento sicuro',
      choose: 'Scegli un metodo di pagamento.',
      total: 'Totale',
    },
    'pt-BR': {
      legend: 'Forma de pagamento',
      methods: {
        card: ['Cartão', 'Pague com cartão de crédito ou débito.'],
        invoice: ['Fatura', 'Pague depois. Você receberá uma fatura.'],
        wallet: ['Carteira digital', 'Aprove o pagamento no app da sua carteira digital.'],
      },
      note: 'Você informará os dados de pagamento na página de pagamento segura da Kassa.',
      proceed: 'Continuar para o pagamento seguro',
      choose: 'Escolha uma forma de pagamento.',
      total: 'Total',
    },
    pl: {
      legend: 'Metoda płatności',
      methods: {
        card: ['Karta', 'Zapłać kartą kredytową lub debetową.'],
        invoice: ['Faktura', 'Zapłać później. Otrzymasz fakturę.'],
        wallet: ['Portfel', 'Zatwierdź płatność w aplikacji portfela.'],
      },
      note: 'Dane płatności podasz na bezpiecznej stronie płatności Kassa.',
      proceed: 'Przejdź do bezpiecznej płatności',
      choose: 'Wybierz metodę płatności.',
      total: 'Razem',
    },
  };

  // Shopper-facing words in the languages of Kassa's own pages (docs/languages.md); the method names and
  // descriptions are the hosted page's (src/http/pages/locales/), so both read the same.
  var LANGUAGE_FALLBACKS = { es: 'es-419', no: 'nb', nn: 'nb', pt: 'pt-BR' };
  var NAMED_LOCALES = { EN: 'en', ES_LATAM: 'es-419', DA: 'da' };

  /** `EN` / `ES_LATAM` / `DA` or a BCP 47 tag → the dictionary that speaks it (exact, else by language). */
  function languageTagOf(locale) {
    if (typeof locale !== 'string' || locale === '') return null;
    var named = NAMED_LOCALES[locale.toUpperCase().replace('-', '_')];
    if (named) return named;
    var parts = locale.split(/[-_]/);
    var language = parts[0].toLowerCase();
    var region = parts.length > 1 ? parts[parts.length - 1].toUpperCase() : '';
    var exact = region ? language + '-' + region : language;
    if (TEXTS[exact]) return exact;
    if (TEXTS[language]) return language;
    return LANGUAGE_FALLBACKS[language] || null;
  }

  /** The first of `candidates` the SDK speaks (explicit option, the session's locale, the browser's). */
  function pickLanguage(candidates) {
    for (var i = 0; i < candidates.length; i += 1) {
      var tag = languageTagOf(candidates[i]);
      if (tag) return tag;
    }
    return 'en';
  }

  // A bare "$" or "kr" is printed only for the order country's own currency, the ISO code otherwise
  // (as on the hosted page: docs/languages.md, "Money").
  var AMBIGUOUS_SYMBOLS = ['$', 'kr', 'kr.'];
  var LOCAL_CURRENCY = {
    US: 'USD',
    MX: 'MXN',
    CA: 'CAD',
    AU: 'AUD',
    NZ: 'NZD',
    AR: 'ARS',
    CL: 'CLP',
    CO: 'COP',
    UY: 'UYU',
    SG: 'SGD',
    HK: 'HKD',
    DK: 'DKK',
    SE: 'SEK',
    NO: 'NOK',
    IS: 'ISK',
  };

  function formatAmount(minor, currency, language, country) {
    try {
      var base = language.split('-')[0];
      var tag =
        country && Intl.NumberFormat.supportedLocalesOf([base + '-' + country]).length
          ? base + '-' + country
          : language;
      var format = new Intl.NumberFormat(tag, { style: 'currency', currency: currency });
      var digits = format.resolvedOptions().maximumFractionDigits;
      // Integer minor units → major units for display only, by the currency's own exponent.
      var major = minor / Math.pow(10, digits);
      var symbol = format.formatToParts(major).filter(function (part) {
        return part.type === 'currency';
      })[0];
      if (symbol && AMBIGUOUS_SYMBOLS.indexOf(symbol.value) >= 0 && LOCAL_CURRENCY[country] !== currency) {
        format = new Intl.NumberFormat(tag, {
          style: 'currency',
          currency: currency,
          currencyDisplay: 'code',
        });
      }
      return format.format(major);
    } catch {
      return String(minor) + ' ' + currency;
    }
  }

  // Minimal default looks, so the methods read as a list of choices on a page with no CSS for them. In a
  // cascade layer and behind :where() (zero specificity): any rule of the merchant's own for these classes,
  // even `.kassa-method { display: block }` or a `*` reset, wins. Custom properties tune them.
  var DEFAULT_CSS = [
    '@layer kassa-sdk {',
    ':where(.kassa-payment-methods){display:grid;gap:var(--kassa-gap,0.75rem);max-width:var(--kassa-max-width,32rem);margin:0}',
    ':where(.kassa-total,.kassa-note,.kassa-error){margin:0}',
    ':where(.kassa-total__amount){margin-inline-start:0.25em}',
    ':where(.kassa-fieldset){display:grid;gap:var(--kassa-gap,0.75rem);min-width:0;margin:0;padding:0.75rem 1rem 1rem;' +
      'border:1px solid var(--kassa-border-color,currentColor);border-radius:var(--kassa-radius,0.5rem)}',
    ':where(.kassa-legend){padding:0 0.25rem;font-weight:600}',
    ':where(.kassa-method){display:grid;grid-template-columns:auto minmax(0,1fr);column-gap:0.625rem;align-items:center}',
    ':where(.kassa-method__input){width:1.25rem;height:1.25rem;margin:0;accent-color:var(--kassa-accent-color,auto)}',
    ':where(.kassa-method__label){grid-column:2;font-weight:600;cursor:pointer}',
    ':where(.kassa-method__description){grid-column:2;font-size:0.875em}',
    ':where(.kassa-error){color:var(--kassa-error-color);font-weight:600}',
    ':where(.kassa-note){font-size:0.875em}',
    ':where(.kassa-continue){justify-self:start;min-height:2.75rem;padding:0.625rem 1.25rem;font:inherit;font-weight:600;cursor:pointer}',
    '}',
  ].join('\n');

  var stylesInstalled = false;

  /**
   * Installs DEFAULT_CSS once per page. A constructed stylesheet (document.adoptedStyleSheets) is not subject
   * to the page's CSP `style-src`, so a strict CSP needs no exception; a browser without it gets a <style>
   * element, carrying `nonce` when given.
   */
  function installDefaultStyles(nonce) {
    var doc = root.document;
    if (stylesInstalled || !doc) return;
    stylesInstalled = true;
    try {
      if (typeof root.CSSStyleSheet === 'function' && Array.isArray(doc.adoptedStyleSheets)) {
        var sheet = new root.CSSStyleSheet();
        sheet.replaceSync(DEFAULT_CSS);
        doc.adoptedStyleSheets = [sheet].concat(doc.adoptedStyleSheets);
        return;
      }
    } catch {
      // Fall through to a <style> element.
    }
    var style = doc.createElement('style');
    style.setAttribute('data-kassa-sdk', VERSION);
    if (nonce) style.setAttribute('nonce', nonce);
    style.textContent = DEFAULT_CSS;
    var head = doc.head || doc.documentElement;
    head.insertBefore(style, head.firstChild);
  }

  function requireString(value, name) {
    if (typeof value !== 'string' || value.length === 0) {
      throw new KassaError('invalid_options', name + ' must be a non-empty string');
    }
    return value;
  }

  function normaliseBaseUrl(baseUrl) {
    var base = baseUrl === undefined || baseUrl === null ? scriptBaseUrl : baseUrl;
    if (!base) {
      throw new KassaError('invalid_options', 'baseUrl is required when kassa.js is not loaded from Kassa');
    }
    var parsed;
    try {
      parsed = new URL(base, root.location && root.location.href);
    } catch {
      throw new KassaError('invalid_options', 'baseUrl is not a URL');
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
      throw new KassaError('invalid_options', 'baseUrl must be an http(s) URL');
    }
    return parsed.href.replace(/\/+$/, '');
  }

  function resolveElement(target) {
    var element = typeof target === 'string' ? root.document.querySelector(target) : target;
    if (!element || typeof element.appendChild !== 'function') {
      throw new KassaError(
        'invalid_element',
        'injectPaymentMethods needs an element or a selector that matches one',
      );
    }
    return element;
  }

  var ERROR_CODES_BY_STATUS = {
    401: 'unauthorized',
    404: 'session_not_found',
    409: 'session_closed',
    410: 'session_closed',
  };

  var instanceCount = 0;

  /** One checkout session on this page. */
  class KassaCheckout {
    constructor(options) {
      if (!options || typeof options !== 'object')
        throw new KassaError('invalid_options', 'init() needs options');
      this.sessionId = requireString(options.sessionId, 'sessionId');
      this.baseUrl = normaliseBaseUrl(options.baseUrl);
      this.paymentLinkId = typeof options.paymentLinkId === 'string' ? options.paymentLinkId : null;
      // Not enumerable: a console.log of the client does not print the token.
      Object.defineProperty(this, 'token', {
        value: requireString(options.token, 'token'),
        enumerable: false,
      });
      instanceCount += 1;
      this.uid = 'kassa-' + instanceCount;
    }

    async request(path) {
      var response;
      try {
        response = await root.fetch(this.baseUrl + path, {
          method: 'GET',
          mode: 'cors',
          credentials: 'omit',
          cache: 'no-store',
          headers: { Authorization: 'Bearer ' + this.token, Accept: 'application/json' },
        });
      } catch {
        throw new KassaError('network_error', 'Kassa could not be reached');
      }
      var body = null;
      try {
        body = await response.json();
      } catch {
        body = null;
      }
      if (!response.ok) {
        var code = ERROR_CODES_BY_STATUS[response.status] || 'request_failed';
        var detail = body && typeof body.detail === 'string' ? body.detail : 'HTTP ' + response.status;
        throw new KassaError(code, detail, { status: response.status, problem: body });
      }
      return body;
    }

    /** The order summary, amount and secure page URL of this session. */
    getSession() {
      return this.request('/v1/checkouts/' + encodeURIComponent(this.sessionId) + '/session');
    }

    /** The eligible methods, in display order. */
    async getPaymentMethods() {
      var eligibility = await this.request(
        '/v1/checkouts/' + encodeURIComponent(this.sessionId) + '/payment-methods',
      );
      return eligibility.payment_methods.slice().sort(function (a, b) {
        return a.display_order - b.display_order;
      });
    }

    /**
     * Renders the eligible methods into `target` as radio buttons with a "Continue to secure payment" button.
     * Resolves once they are in the page; rejects with a KassaError (`no_payment_methods` when none is
     * available). Continuing sends the shopper to Kassa's secure page with the chosen method.
     */
    async injectPaymentMethods(target, options) {
      var settings = options || {};
      var element = resolveElement(target);
      var results = await Promise.all([this.getPaymentMethods(), this.getSession()]);
      var methods = results[0];
      var session = results[1];
      if (session.status !== 'OPEN') {
        throw new KassaError('session_closed', 'This checkout is ' + session.status, { status: 409 });
      }
      if (methods.length === 0) {
        throw new KassaError('no_payment_methods', 'No payment method is available for this checkout');
      }
      this.session = session;
      var browserLanguages = (root.navigator && root.navigator.languages) || [];
      var language = pickLanguage([settings.locale, session.locale].concat(browserLanguages));
      if (settings.styles !== false) installDefaultStyles(settings.styleNonce);
      renderMethods(this, element, methods, session, language);
      return { session: session, methods: methods };
    }

    /** The secure page URL for `method`; refuses any URL that is not on this Kassa's origin. */
    securePageUrl(method) {
      if (!this.session) throw new KassaError('not_initialized', 'Call injectPaymentMethods() first');
      var url = new URL(this.session.checkout_redirect_url);
      if (url.origin !== new URL(this.baseUrl).origin) {
        throw new KassaError('request_failed', 'The secure page is not on the Kassa origin');
      }
      if (method) url.searchParams.set('method', method);
      return url.href;
    }

    /** Sends the shopper to Kassa's secure page (card entry happens there, never here). */
    proceed(method) {
      root.location.assign(this.securePageUrl(method));
    }
  }

  function create(tag, className, text) {
    var element = root.document.createElement(tag);
    if (className) element.className = className;
    if (text !== undefined) element.textContent = text;
    return element;
  }

  // DOM built with createElement/textContent only: nothing from the API is ever parsed as HTML, and no
  // inline style is used, so the merchant's CSP needs no exception (style the kassa-* classes; the defaults
  // above yield to any rule of the merchant's).
  function renderMethods(client, element, methods, session, language) {
    var texts = TEXTS[language];
    var uid = client.uid;
    var form = create('form', 'kassa-payment-methods');
    form.setAttribute('novalidate', '');
    form.setAttribute('data-kassa-sdk', VERSION);
    // The merchant's page may be in another language than the methods: say which one they are in.
    form.setAttribute('lang', language);

    var summary = create('p', 'kassa-total');
    summary.appendChild(create('span', 'kassa-total__label', texts.total + ' '));
    summary.appendChild(
      create(
        'strong',
        'kassa-total__amount',
        formatAmount(
          session.order.total_amount,
          session.order.currency,
          language,
          session.order.country_code,
        ),
      ),
    );
    form.appendChild(summary);

    var fieldset = create('fieldset', 'kassa-fieldset');
    fieldset.appendChild(create('legend', 'kassa-legend', texts.legend));
    methods.forEach(function (method, index) {
      var text = texts.methods[method.type] || [method.type, ''];
      var id = uid + '-method-' + index;
      var row = create('div', 'kassa-method');
      var input = create('input', 'kassa-method__input');
      input.type = 'radio';
      input.name = uid + '-method';
      input.id = id;
      input.value = method.type;
      input.checked = index === 0;
      var label = create('label', 'kassa-method__label', text[0]);
      label.htmlFor = id;
      row.appendChild(input);
      row.appendChild(label);
      if (text[1]) {
        var description = create('span', 'kassa-method__description', text[1]);
        description.id = id + '-description';
        input.setAttribute('aria-describedby', description.id);
        row.appendChild(description);
      }
      fieldset.appendChild(row);
    });
    form.appendChild(fieldset);

    var error = create('p', 'kassa-error');
    error.id = uid + '-error';
    error.setAttribute('role', 'alert');
    error.hidden = true;
    form.appendChild(error);
    form.appendChild(create('p', 'kassa-note', texts.note));
    var button = create('button', 'kassa-continue', texts.proceed);
    button.type = 'submit';
    form.appendChild(button);

    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var chosen = form.querySelector('input[name="' + uid + '-method"]:checked');
      if (!chosen) {
        error.textContent = texts.choose;
        error.hidden = false;
        return;
      }
      button.disabled = true;
      button.setAttribute('aria-busy', 'true');
      try {
        client.proceed(chosen.value);
      } catch (failure) {
        button.disabled = false;
        button.removeAttribute('aria-busy');
        error.textContent = failure.message;
        error.hidden = false;
      }
    });

    while (element.firstChild) element.removeChild(element.firstChild);
    element.appendChild(form);
  }

  function readStoredQrSession() {
    try {
      var stored = root.sessionStorage.getItem(QR_STORAGE_KEY);
      return stored ? JSON.parse(stored) : null;
    } catch {
      return null;
    }
  }

  function storeQrSession(value) {
    try {
      root.sessionStorage.setItem(QR_STORAGE_KEY, JSON.stringify(value));
    } catch {
      // Storage disabled: a reload then needs the link again, nothing else changes.
    }
  }

  var defaultClient = null;

  function init(options) {
    defaultClient = new KassaCheckout(options);
    return defaultClient;
  }

  /**
   * For a payment link's landing page: reads kassa_session / kassa_token (and kassa_link) from the page URL,
   * removes the token from the address bar and history (kept for this tab in sessionStorage, so a reload
   * still works), and initialises the client.
   */
  function initFromQR(options) {
    var settings = options || {};
    var url = new URL(settings.url || root.location.href);
    var sessionId = url.searchParams.get('kassa_session');
    var token = url.searchParams.get('kassa_token');
    var linkId = url.searchParams.get('kassa_link');
    if (sessionId && token) {
      storeQrSession({ sessionId: sessionId, token: token, linkId: linkId });
      if (!settings.url && settings.cleanUrl !== false && root.history && root.history.replaceState) {
        url.searchParams.delete('kassa_token');
        root.history.replaceState(root.history.state, '', url.href);
      }
    } else {
      var stored = readStoredQrSession();
      if (!stored || (sessionId && stored.sessionId !== sessionId)) {
        throw new KassaError('missing_qr_parameters', 'The page URL has no kassa_session and kassa_token');
      }
      sessionId = stored.sessionId;
      token = stored.token;
      linkId = stored.linkId;
    }
    return init({
      sessionId: sessionId,
      token: token,
      baseUrl: settings.baseUrl,
      paymentLinkId: linkId || undefined,
    });
  }

  function injectPaymentMethods(target, options) {
    if (!defaultClient) {
      return Promise.reject(
        new KassaError('not_initialized', 'Call Kassa.init() or Kassa.initFromQR() first'),
      );
    }
    return defaultClient.injectPaymentMethods(target, options);
  }

  root.Kassa = Object.freeze({
    version: VERSION,
    KassaError: KassaError,
    init: init,
    initFromQR: initFromQR,
    injectPaymentMethods: injectPaymentMethods,
  });
})(typeof window !== 'undefined' ? window : this);

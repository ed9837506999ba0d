// Kassa hosted pages: progressive enhancement only. Every page works without this file; with it,
// card fields show only for the card method, the card number is grouped as typed and its brand shown,
// a logo that fails to load gives way to the merchant's initial, card data is checked
// before it is sent (the server checks again), errors are announced, a form is submitted only once, and a
// waiting page checks in the background rather than reloading itself.
// Plain ES2020, no dependencies, no build step. Listed with its SHA-384 in docs/page-scripts.md.
(function () {
  'use strict';

  var MESSAGE_PREFIX = 'msg';

  /** The message for `code` from the element's data-msg-* attributes (written by the server, translated). */
  function messageFor(element, code) {
    var key =
      MESSAGE_PREFIX +
      code
        .split('_')
        .map(function (part) {
          return part.charAt(0).toUpperCase() + part.slice(1);
        })
        .join('');
    return element.dataset[key] || '';
  }

  // ---------- Submit once (every form with data-submit-once) ----------

  function disableSubmitButtons(form) {
    var buttons = form.querySelectorAll('button[type="submit"]');
    buttons.forEach(function (button) {
      button.setAttribute('aria-disabled', 'true');
      var processing = button.dataset.processingLabel;
      if (!processing) return;
      var label = button.querySelector('[data-button-label]');
      if (label) {
        // The label may hold one text per method: hide it whole and show the processing text beside it.
        label.hidden = true;
        var busy = button.querySelector('[data-processing-text]');
        if (!busy) {
          busy = document.createElement('span');
          busy.setAttribute('data-processing-text', '');
          button.appendChild(busy);
        }
        busy.textContent = processing;
        busy.hidden = false;
        return;
      }
      if (!button.dataset.originalLabel) button.dataset.originalLabel = button.textContent;
      button.textContent = processing;
    });
    // Disabled in the next task: disabling now could drop the clicked button from the submitted data.
    window.setTimeout(function () {
      buttons.forEach(function (button) {
        button.disabled = true;
      });
    }, 0);
  }

  function enableSubmitButtons(form) {
    delete form.dataset.submitted;
    form.querySelectorAll('button[type="submit"]').forEach(function (button) {
      button.disabled = false;
      button.removeAttribute('aria-disabled');
      var label = button.querySelector('[data-button-label]');
      var busy = button.querySelector('[data-processing-text]');
      if (label) label.hidden = false;
      if (busy) busy.hidden = true;
      if (!label && button.dataset.originalLabel) button.textContent = button.dataset.originalLabel;
    });
  }

  function submitOnce(form) {
    form.addEventListener('submit', function (event) {
      if (event.defaultPrevented) return; // a check above refused the submit
      if (form.dataset.submitted === 'true') {
        event.preventDefault();
        return;
      }
      form.dataset.submitted = 'true';
      disableSubmitButtons(form);
    });
  }

  // ---------- Card checks (mirror src/lib/card.ts; the server remains the authority) ----------

  function digitsOf(value) {
    return value.replace(/\D/g, '');
  }

  function isAmex(digits) {
    return /^3[47]/.test(digits);
  }

  function passesLuhn(digits) {
    var sum = 0;
    var double = false;
    for (var i = digits.length - 1; i >= 0; i--) {
      var digit = digits.charCodeAt(i) - 48;
      if (double) {
        digit *= 2;
        if (digit > 9) digit -= 9;
      }
      sum += digit;
      double = !double;
    }
    return sum % 10 === 0;
  }

  function checkName(value) {
    return value.trim() ? null : 'required';
  }

  function checkNumber(value) {
    if (!value.trim()) return 'required';
    var digits = value.replace(/[\s-]/g, '');
    if (!/^\d{12,19}$/.test(digits) || !passesLuhn(digits)) return 'invalid';
    return null;
  }

  function checkExpiry(value) {
    if (!value.trim()) return 'required';
    var match = /^\s*(\d{1,2})\s*\/?\s*(\d{2}|\d{4})\s*$/.exec(value);
    if (!match || (value.indexOf('/') === -1 && match[1].length !== 2)) return 'invalid_format';
    var month = Number(match[1]);
    var year = Number(match[2]);
    if (month < 1 || month > 12) return 'invalid_month';
    if (year < 100) year += 2000;
    var now = new Date();
    var currentYear = now.getUTCFullYear();
    var currentMonth = now.getUTCMonth() + 1;
    if (year < currentYear || (year === currentYear && month < currentMonth)) return 'expired';
    if (year > currentYear + 20) return 'invalid_year';
    return null;
  }

  function checkCvc(value, cardNumber) {
    if (!value.trim()) return 'required';
    var length = isAmex(digitsOf(cardNumber)) ? 4 : 3;
    return new RegExp('^\\d{' + length + '}$').test(value.trim()) ? null : 'invalid';
  }

  // ---------- Card brand as typed (the server writes its own ranges on the input) ----------

  function brandRanges(input) {
    return (input.dataset.brandRanges || '')
      .split(';')
      .filter(Boolean)
      .map(function (entry) {
        var parts = entry.split(':');
        var bounds = (parts[1] || '').split('-');
        return { brand: parts[0], from: bounds[0], to: Number(bounds[1]) };
      });
  }

  function detectBrand(digits, ranges) {
    for (var i = 0; i < ranges.length; i++) {
      var length = ranges[i].from.length;
      if (digits.length < length) continue;
      var prefix = Number(digits.slice(0, length));
      if (prefix >= Number(ranges[i].from) && prefix <= ranges[i].to) return ranges[i].brand;
    }
    return '';
  }

  /** Shows the mark of the brand the number belongs to in the field, when the page offers that brand. */
  function showBrand(input, ranges) {
    var slot = input.parentNode.querySelector('[data-brand-slot]');
    if (!slot) return;
    var brand = detectBrand(digitsOf(input.value), ranges);
    if (slot.dataset.brand === brand) return;
    slot.dataset.brand = brand;
    slot.textContent = '';
    var mark = brand && document.querySelector('.method__brands [data-brand-mark="' + brand + '"]');
    if (mark) slot.appendChild(mark.cloneNode(true));
  }

  // ---------- Formatting as typed ----------

  function groupCardNumber(digits) {
    var sizes = isAmex(digits) ? [4, 6, 5] : [4, 4, 4, 4, 3];
    var parts = [];
    var start = 0;
    for (var i = 0; i < sizes.length && start < digits.length; i++) {
      parts.push(digits.slice(start, start + sizes[i]));
      start += sizes[i];
    }
    return parts.join(' ');
  }

  function formatCardNumberInput(input) {
    var caret = input.selectionStart === null ? input.value.length : input.selectionStart;
    var digitsBeforeCaret = digitsOf(input.value.slice(0, caret)).length;
    var formatted = groupCardNumber(digitsOf(input.value).slice(0, 19));
    if (formatted === input.value) return;
    input.value = formatted;
    // Keep the caret after the same digit it followed before the spaces moved.
    var position = 0;
    var seen = 0;
    while (position < formatted.length && seen < digitsBeforeCaret) {
      if (formatted.charAt(position) !== ' ') seen++;
      position++;
    }
    if (document.activeElement === input) input.setSelectionRange(position, position);
  }

  function formatExpiryInput(input, event) {
    if (event.inputType && event.inputType.indexOf('delete') === 0) return;
    var value = input.value;
    if (/^[2-9]$/.test(value)) input.value = '0' + value + '/';
    else if (/^\d{2}$/.test(value)) input.value = value + '/';
    else if (/^\d{4}$/.test(value)) input.value = value.slice(0, 2) + '/' + value.slice(2);
  }

  // ---------- The payment form ----------

  function enhanceCheckout(form) {
    var panel = form.querySelector('[data-method-panel="card"]');
    var summary = form.querySelector('[data-error-summary]');
    var summaryBody = form.querySelector('[data-error-summary-body]');
    var liveRegion = form.querySelector('[data-live-region]');
    var methodError = form.querySelector('#payment-method-error');
    var radios = form.querySelectorAll('input[name="payment_method"]');
    var inputs = {
      cardName: form.querySelector('[data-field="cardName"]'),
      cardNumber: form.querySelector('[data-field="cardNumber"]'),
      cardExpiry: form.querySelector('[data-field="cardExpiry"]'),
      cardCvc: form.querySelector('[data-field="cardCvc"]'),
    };
    var checks = {
      cardName: checkName,
      cardNumber: checkNumber,
      cardExpiry: checkExpiry,
      cardCvc: function (value) {
        return checkCvc(value, inputs.cardNumber ? inputs.cardNumber.value : '');
      },
    };
    var fieldOrder = ['cardName', 'cardNumber', 'cardExpiry', 'cardCvc'];

    function selectedMethod() {
      var checked = form.querySelector('input[name="payment_method"]:checked');
      return checked ? checked.value : null;
    }

    function syncCardPanel() {
      if (!panel) return;
      var isCard = selectedMethod() === 'card';
      panel.hidden = !isCard;
      // A disabled fieldset's fields are not submitted, so nothing card-related leaves for other methods.
      panel.disabled = !isCard;
    }

    function setFieldError(input, message) {
      var error = document.getElementById(input.id + '-error');
      var hint = document.getElementById(input.id + '-hint');
      var describedBy = [];
      if (hint) describedBy.push(hint.id);
      if (message) {
        describedBy.push(error.id);
        input.setAttribute('aria-invalid', 'true');
      } else {
        input.removeAttribute('aria-invalid');
      }
      error.textContent = message || '';
      error.hidden = !message;
      input.closest('.field').classList.toggle('field--invalid', Boolean(message));
      if (describedBy.length) input.setAttribute('aria-describedby', describedBy.join(' '));
      else input.removeAttribute('aria-describedby');
    }

    function validateField(name) {
      var input = inputs[name];
      var code = checks[name](input.value);
      setFieldError(input, code ? messageFor(input, code) : '');
      return code ? { input: input, message: messageFor(input, code) } : null;
    }

    function announce(text) {
      if (!liveRegion) return;
      // Clear first so the same message is announced again on a second failed submit.
      liveRegion.textContent = '';
      window.setTimeout(function () {
        liveRegion.textContent = text;
      }, 50);
    }

    function showSummary(problems) {
      if (!summary || !summaryBody) return;
      summaryBody.textContent = '';
      var title = document.createElement('p');
      title.className = 'alert__message';
      title.textContent = form.dataset.msgSummary || '';
      var list = document.createElement('ul');
      list.className = 'alert__list';
      problems.forEach(function (problem) {
        var item = document.createElement('li');
        var link = document.createElement('a');
        link.href = '#' + problem.input.id;
        link.textContent = problem.message;
        item.appendChild(link);
        list.appendChild(item);
      });
      summaryBody.appendChild(title);
      summaryBody.appendChild(list);
      summary.hidden = false;
    }

    radios.forEach(function (radio) {
      radio.addEventListener('change', function () {
        syncCardPanel();
        radios.forEach(function (other) {
          other.removeAttribute('aria-invalid');
        });
        if (methodError) methodError.hidden = true;
        // The summary speaks about the previous attempt or method; a new choice starts afresh.
        if (summary) summary.hidden = true;
      });
    });

    var ranges = inputs.cardNumber ? brandRanges(inputs.cardNumber) : [];
    if (inputs.cardNumber) showBrand(inputs.cardNumber, ranges);

    fieldOrder.forEach(function (name) {
      var input = inputs[name];
      if (!input) return;
      input.addEventListener('input', function (event) {
        if (name === 'cardNumber') {
          formatCardNumberInput(input);
          showBrand(input, ranges);
        }
        if (name === 'cardExpiry') formatExpiryInput(input, event);
        // While typing, only clear an error that has been fixed; never raise a new one mid-word.
        if (input.getAttribute('aria-invalid') === 'true' && !checks[name](input.value))
          setFieldError(input, '');
      });
      input.addEventListener('blur', function () {
        if (input.value.trim() || input.getAttribute('aria-invalid') === 'true') validateField(name);
      });
    });

    if (summary) {
      summary.addEventListener('click', function (event) {
        var link = event.target.closest('a[href^="#"]');
        if (!link) return;
        var target = document.getElementById(link.getAttribute('href').slice(1));
        if (!target) return;
        event.preventDefault();
        target.focus();
      });
    }

    // Registered before submitOnce, so a refused submit never disables the Pay button.
    form.addEventListener('submit', function (event) {
      if (form.dataset.submitted === 'true' || selectedMethod() !== 'card' || !inputs.cardNumber) return;
      var problems = fieldOrder.map(validateField).filter(function (problem) {
        return problem !== null;
      });
      if (problems.length === 0) return;
      event.preventDefault();
      showSummary(problems);
      announce(
        [form.dataset.msgSummary]
          .concat(
            problems.map(function (problem) {
              return problem.message;
            }),
          )
          .join(' '),
      );
      problems[0].input.focus();
    });

    syncCardPanel();
    // After a failed attempt the server renders the summary: take the shopper (and screen reader) there.
    if (summary && !summary.hidden) summary.focus();
  }

  // ---------- Order summary and merchant logo ----------

  // Wide screens show the summary open; a browser that cannot style the details' content opens it here.
  var details = document.querySelector('[data-summary-details]');
  if (
    details &&
    !(window.CSS && window.CSS.supports('selector(::details-content)')) &&
    window.matchMedia('(min-width: 821px)').matches
  ) {
    details.open = true;
  }

  // A logo that does not load gives way to the merchant's initial.
  document.querySelectorAll('img[data-logo]').forEach(function (logo) {
    function fallBack() {
      var initial = logo.parentNode.querySelector('[data-logo-initial]');
      if (initial) initial.hidden = false;
      logo.remove();
    }
    if (logo.complete && logo.naturalWidth === 0) fallBack();
    else logo.addEventListener('error', fallBack);
  });

  // ---------- A waiting page ("Confirming your payment") ----------

  // Without script a <noscript> meta refresh reloads the page every few seconds. Here the page asks in the
  // background instead and moves on only once the answer is something else (the result, or a redirect), so
  // the shopper and a screen reader are not interrupted by reloads of the same page.
  var waitingUrl = document.body.dataset.refreshUrl;
  if (waitingUrl) {
    var waitMs = (Number(document.body.dataset.refreshSeconds) || 2) * 1000;
    var moveOn = function () {
      window.location.replace(waitingUrl);
    };
    var poll = function () {
      fetch(waitingUrl, { credentials: 'same-origin', redirect: 'manual', headers: { accept: 'text/html' } })
        .then(function (response) {
          if (response.type === 'opaqueredirect' || !response.ok) return moveOn();
          return response.text().then(function (text) {
            if (text.indexOf('data-refresh-url=') === -1) moveOn();
            else window.setTimeout(poll, waitMs);
          });
        })
        .catch(function () {
          window.setTimeout(poll, waitMs);
        });
    };
    window.setTimeout(poll, waitMs);
  }

  var checkoutForm = document.querySelector('form[data-checkout-form]');
  if (checkoutForm) enhanceCheckout(checkoutForm);
  document.querySelectorAll('form[data-submit-once]').forEach(submitOnce);

  // Back/forward cache restores the page as it was when left: with the buttons disabled. Re-enable them.
  window.addEventListener('pageshow', function (event) {
    if (!event.persisted) return;
    document.querySelectorAll('form[data-submit-once]').forEach(enableSubmitButtons);
  });
})();

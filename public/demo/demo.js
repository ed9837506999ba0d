/*
 * Demo Shop — the shop's own script (not Kassa's). Shows the payment methods of a checkout with Kassa's
 * browser SDK (loaded before this file with its SRI hash) and adds "Copy" buttons. No inline code: the
 * checkout id and client token are read from data attributes the server wrote.
 */
(function () {
  'use strict';

  var MESSAGES = {
    no_payment_methods: 'No payment method is available for this order.',
    session_closed: 'This checkout is closed. Go back to the cart to start again.',
    session_not_found: 'This checkout could not be found.',
    unauthorized: 'This checkout could not be opened.',
    missing_qr_parameters: 'Open this page from a payment link.',
    network_error: 'Kassa could not be reached. Check your connection and reload the page.',
  };

  function showError(box, target, error) {
    if (target) target.setAttribute('data-state', 'error');
    if (!box) return;
    var code = error && error.code;
    box.textContent = MESSAGES[code] || (error && error.message) || 'Something went wrong.';
    box.hidden = false;
  }

  function showPaymentMethods() {
    var target = document.getElementById('kassa-payment-methods');
    if (!target) return;
    var box = document.querySelector('.demo-sdk__error');
    if (!window.Kassa) {
      showError(box, target, { message: 'The payment script could not be loaded.' });
      return;
    }
    var client;
    try {
      client =
        target.getAttribute('data-kassa-from-qr') === 'true'
          ? window.Kassa.initFromQR()
          : window.Kassa.init({
              sessionId: target.getAttribute('data-kassa-session'),
              token: target.getAttribute('data-kassa-token'),
            });
    } catch (error) {
      showError(box, target, error);
      target.textContent = '';
      return;
    }
    client.injectPaymentMethods(target).then(
      function (result) {
        target.setAttribute('data-state', 'ready');
        target.setAttribute('data-methods', String(result.methods.length));
      },
      function (error) {
        target.textContent = '';
        showError(box, target, error);
      },
    );
  }

  function addCopyButtons() {
    var buttons = document.querySelectorAll('[data-copy-target]');
    Array.prototype.forEach.call(buttons, function (button) {
      var input = document.getElementById(button.getAttribute('data-copy-target'));
      if (!input || !window.navigator.clipboard) return;
      button.hidden = false;
      button.addEventListener('click', function () {
        window.navigator.clipboard.writeText(input.value).then(
          function () {
            button.textContent = 'Copied';
          },
          function () {
            input.select();
          },
        );
      });
    });
  }

  showPaymentMethods();
  addCopyButtons();
})();

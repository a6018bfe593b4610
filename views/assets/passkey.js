// Passkeys on Keyhold's pages. Forms marked data-passkey carry their WebAuthn options in a
// <script type="application/json"> child (no fetch: the pages' CSP allows no connections);
// this script runs the browser ceremony and posts the result in the form's `response` field.
// Every other way of signing in works without it.
(function () {
  'use strict';
  var webauthn = window.SimpleWebAuthnBrowser;
  if (!webauthn || !webauthn.browserSupportsWebAuthn()) return;

  function optionsOf(form) {
    var holder = form.querySelector('script[type="application/json"]');
    return holder ? JSON.parse(holder.textContent) : null;
  }

  function finish(form, result) {
    form.querySelector('input[name="response"]').value = JSON.stringify(result);
    form.submit();
  }

  function showError(form, error) {
    var note = form.querySelector('.passkey-error');
    if (note) note.textContent = error && error.name === 'NotAllowedError' ? 'The passkey request was cancelled or timed out.' : 'The passkey could not be used.';
  }

  document.querySelectorAll('form[data-passkey]').forEach(function (form) {
    var mode = form.getAttribute('data-passkey');
    var optionsJSON = optionsOf(form);
    if (!optionsJSON) return;
    form.hidden = false;
    if (mode === 'autofill') {
      webauthn.browserSupportsWebAuthnAutofill().then(function (supported) {
        if (!supported) return;
        webauthn.startAuthentication({ optionsJSON: optionsJSON, useBrowserAutofill: true }).then(function (result) { finish(form, result); }, function () {});
      });
    }
    form.addEventListener('submit', function (event) {
      if (form.querySelector('input[name="response"]').value) return;
      event.preventDefault();
      var ceremony = mode === 'register' ? webauthn.startRegistration({ optionsJSON: optionsJSON }) : webauthn.startAuthentication({ optionsJSON: optionsJSON });
      ceremony.then(function (result) { finish(form, result); }, function (error) { showError(form, error); });
    });
  });
})();

// Passkeys (WebAuthn) on the hosted pages: forms marked data-passkey="register", "sign-in" or
// "second-factor". The server's options come as JSON (POST to data-options-url, CSRF token in
// a header); the browser's answer goes back in the form's hidden "credential" field with an
// ordinary form submission, so the server answers as it does to any form (redirects, pages).
// Without WebAuthn (or without this script) the passkey controls stay hidden.
(function () {
  "use strict";

  if (!window.PublicKeyCredential || !navigator.credentials) {
    return;
  }

  function toBase64url(buffer) {
    const bytes = new Uint8Array(buffer);
    let text = "";
    for (let i = 0; i < bytes.length; i += 1) {
      text += String.fromCharCode(bytes[i]);
    }
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function fromBase64url(text) {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "===".slice((base64.length + 3) % 4);
    const binary = atob(padded);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i += 1) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes.buffer;
  }

  function descriptors(list) {
    return (list || []).map(function (item) {
      return Object.assign({}, item, { id: fromBase64url(item.id) });
    });
  }

  function creationOptions(json) {
    const options = Object.assign({}, json.publicKey);
    options.challenge = fromBase64url(options.challenge);
    options.user = Object.assign({}, options.user, { id: fromBase64url(options.user.id) });
    options.excludeCredentials = descriptors(options.excludeCredentials);
    return options;
  }

  function requestOptions(json) {
    const options = Object.assign({}, json.publicKey);
    options.challenge = fromBase64url(options.challenge);
    options.allowCredentials = descriptors(options.allowCredentials);
    return options;
  }

  function credentialJson(credential) {
    const response = credential.response;
    const json = {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: { clientDataJSON: toBase64url(response.clientDataJSON) },
    };
    if (response.attestationObject) {
      json.response.attestationObject = toBase64url(response.attestationObject);
      if (typeof response.getTransports === "function") {
        json.response.transports = response.getTransports();
      }
    } else {
      json.response.authenticatorData = toBase64url(response.authenticatorData);
      json.response.signature = toBase64url(response.signature);
      if (response.userHandle) {
        json.response.userHandle = toBase64url(response.userHandle);
      }
    }
    return json;
  }

  function fetchOptions(form) {
    const token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    return fetch(form.dataset.optionsUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": token, Accept: "application/json" },
    }).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) {
          throw new Error(body.error || "refused");
        }
        return body;
      });
    });
  }

  function showError(form, message) {
    const place = form.querySelector("[data-passkey-error]");
    if (place) {
      place.textContent = message;
    }
  }

  // The sign-in page's challenge comes back signed (options.ceremony), with the answer.
  function send(form, credential, json) {
    const ceremony = form.querySelector("input[name=ceremony]");
    if (ceremony && json) {
      ceremony.value = json.ceremony || "";
    }
    form.querySelector("input[name=credential]").value = JSON.stringify(credentialJson(credential));
    form.submit();
  }

  function unavailable(form, error) {
    // NotAllowedError: the person closed the browser's dialog or it timed out.
    if (error && error.name === "AbortError") {
      return;
    }
    // The messages come translated from the page (data-error-cancelled, data-error-failed).
    const message = error && error.name === "NotAllowedError"
      ? form.dataset.errorCancelled
      : (error && error.message && error.message !== "refused" && error.name === "Error"
        ? error.message
        : form.dataset.errorFailed);
    showError(form, message);
  }

  function reveal(form) {
    form.hidden = false;
    const button = form.querySelector("[data-passkey-button]");
    if (button) {
      button.hidden = false;
    }
    const note = form.querySelector("[data-passkey-unsupported]");
    if (note) {
      note.hidden = true;
    }
  }

  // A form whose submit asks the browser for a passkey first: `ask` turns the server's
  // options into the browser's answer (a new passkey, or a signature with one).
  function setUpCeremony(form, ask) {
    reveal(form);
    form.addEventListener("submit", function (event) {
      if (form.querySelector("input[name=credential]").value) {
        return;
      }
      event.preventDefault();
      showError(form, "");
      fetchOptions(form)
        .then(ask)
        .then(function (credential) { send(form, credential); })
        .catch(function (error) { unavailable(form, error); });
    });
  }

  function setUpRegister(form) {
    setUpCeremony(form, function (json) {
      return navigator.credentials.create({ publicKey: creationOptions(json) });
    });
  }

  function setUpSecondFactor(form) {
    setUpCeremony(form, function (json) {
      return navigator.credentials.get({ publicKey: requestOptions(json) });
    });
  }

  function setUpSignIn(form) {
    reveal(form);
    let pending = null;

    // Conditional UI: the passkeys of this site appear in the email field's autofill
    // (autocomplete="username webauthn"); choosing one signs in.
    function listen() {
      if (typeof PublicKeyCredential.isConditionalMediationAvailable !== "function") {
        return;
      }
      PublicKeyCredential.isConditionalMediationAvailable().then(function (available) {
        if (!available || !document.querySelector("input[autocomplete$='webauthn']")) {
          return;
        }
        pending = new AbortController();
        const signal = pending.signal;
        let options = null;
        fetchOptions(form)
          .then(function (json) {
            options = json;
            return navigator.credentials.get({
              publicKey: requestOptions(json),
              mediation: "conditional",
              signal: signal,
            });
          })
          .then(function (credential) {
            if (credential) {
              send(form, credential, options);
            }
          })
          .catch(function (error) {
            if (!signal.aborted) {
              unavailable(form, error);
            }
          });
      });
    }

    form.addEventListener("submit", function (event) {
      if (form.querySelector("input[name=credential]").value) {
        return;
      }
      event.preventDefault();
      showError(form, "");
      if (pending) {
        pending.abort();
        pending = null;
      }
      let options = null;
      fetchOptions(form)
        .then(function (json) {
          options = json;
          return navigator.credentials.get({ publicKey: requestOptions(json) });
        })
        .then(function (credential) { send(form, credential, options); })
        .catch(function (error) { unavailable(form, error); });
    });

    if (form.dataset.conditional === "true") {
      listen();
    }
  }

  const setUps = {
    register: setUpRegister,
    "sign-in": setUpSignIn,
    "second-factor": setUpSecondFactor,
  };
  document.querySelectorAll("form[data-passkey]").forEach(function (form) {
    const setUp = setUps[form.dataset.passkey];
    if (setUp) {
      setUp(form);
    }
  });
})();

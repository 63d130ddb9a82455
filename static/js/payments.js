// Card payment with Stripe.js: the card is typed into Stripe's card element (it never reaches
// Kongres), then the browser goes to the return page, which shows what the server knows.
//
// The steps, each answered by the server in JSON:
//   1. POST the pay form: the server prepares the payment (amount computed on the server) and a
//      SetupIntent that collects the card;
//   2. stripe.confirmCardSetup() saves the card in Stripe as a payment method;
//   3. POST its id to the server, which charges it on the payment's PaymentIntent;
//   4. when the bank asks for authentication (3-D Secure), stripe.confirmCardPayment() shows it;
//   5. the return page follows the payment until Stripe's answer is known.
// Collecting the card through a SetupIntent works the same on Stripe and on localstripe (whose
// stand-in Stripe.js confirms PaymentIntents only after the server has attached the card).
(function () {
  "use strict";

  var form = document.querySelector("form[data-card-payment]");
  if (!form) {
    return;
  }
  var mount = form.querySelector("[data-card-element]");
  var errors = form.querySelector("[data-card-errors]");
  var button = form.querySelector("button[type='submit']");
  var csrfInput = form.querySelector("input[name='csrf_token']");
  var csrfToken = form.dataset.csrfToken || (csrfInput && csrfInput.value) || "";
  var idleLabel = button ? button.textContent : "";

  if (typeof window.Stripe !== "function" || !mount) {
    showError(form.dataset.textUnavailable);
    if (button) {
      button.disabled = true;
    }
    return;
  }

  var stripe = window.Stripe(form.dataset.stripeKey, { locale: form.dataset.locale || "auto" });
  var card = stripe.elements().create("card", { hidePostalCode: true });
  card.mount(mount);
  form.classList.add("card-ready");

  function showError(message) {
    if (errors) {
      errors.textContent = message || "";
      errors.hidden = !message;
    }
  }

  function busy(on) {
    if (!button) {
      return;
    }
    button.disabled = on;
    button.textContent = on ? form.dataset.textBusy : idleLabel;
    form.setAttribute("aria-busy", on ? "true" : "false");
  }

  // POST to Kongres with the CSRF token in a header; the answer is JSON either way.
  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken, Accept: "application/json" },
      body: body,
    }).then(function (response) {
      return response
        .json()
        .catch(function () {
          return { error: form.dataset.textFailed };
        })
        .then(function (data) {
          if (!response.ok && !data.error) {
            data.error = form.dataset.textFailed;
          }
          return data;
        });
    });
  }

  function stop(message) {
    busy(false);
    showError(message || form.dataset.textFailed);
  }

  function finish(returnUrl) {
    window.location.assign(returnUrl);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    showError("");
    busy(true);
    var started = null;
    post(form.action, new FormData(form))
      .then(function (data) {
        if (data.error) {
          throw new Error(data.error);
        }
        started = data;
        if (data.status !== "ready") {
          // An earlier payment for the same is being charged or paid: its page says how.
          return null;
        }
        return stripe.confirmCardSetup(data.setup_client_secret, {
          payment_method: { card: card },
        });
      })
      .then(function (setup) {
        if (setup === null) {
          return { status: "done" };
        }
        if (setup.error) {
          throw new Error(setup.error.message || form.dataset.textDeclined);
        }
        var body = new FormData();
        body.append("setup_intent", setup.setupIntent.id);
        return post(started.charge_url, body);
      })
      .then(function (charged) {
        if (charged.error) {
          throw new Error(charged.error);
        }
        if (charged.status === "requires_action") {
          // The bank's own check; whatever it answers, the return page shows the outcome.
          return stripe.confirmCardPayment(charged.client_secret).then(function () {
            return null;
          });
        }
        return null;
      })
      .then(function () {
        finish(started.return_url);
      })
      .catch(function (error) {
        stop(error && error.message);
      });
  });
})();

// The return page: while the payment is processing, ask the server now and then until Stripe's
// answer is known, then show the page again with that answer. Without JavaScript the page
// refreshes itself (meta refresh) to the same effect.
(function () {
  "use strict";

  var box = document.querySelector("[data-payment-status-url]");
  if (!box) {
    return;
  }
  var INTERVAL_MS = 1500;
  var MAX_WAIT_MS = 10 * 60 * 1000;
  var started = Date.now();

  function check() {
    fetch(box.dataset.paymentStatusUrl, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      cache: "no-store",
    })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        if (data && data.state && data.state !== "processing") {
          window.location.reload();
          return;
        }
        schedule();
      })
      .catch(schedule);
  }

  function schedule() {
    if (Date.now() - started < MAX_WAIT_MS) {
      window.setTimeout(check, INTERVAL_MS);
    }
  }

  schedule();
})();

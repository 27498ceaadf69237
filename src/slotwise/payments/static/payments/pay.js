/* The payment page's card form: the provider's Elements (Stripe.js, loaded before
 * this file) set up from the form's data- attributes. Once the provider has
 * confirmed the payment (or saved the card), the browser goes to the return
 * page, which asks the provider itself whether it was paid. */
(function () {
  "use strict";

  var form = document.getElementById("card-payment");
  if (!form) {
    return;
  }
  var data = form.dataset;
  var button = document.getElementById("pay-button");
  var status = document.getElementById("card-status");

  function say(text, problem) {
    status.textContent = text;
    status.classList.toggle("problem", Boolean(problem));
  }

  if (typeof window.Stripe !== "function") {
    say(data.missing, true);
    return;
  }

  var stripe = window.Stripe(data.publishableKey);
  var card = stripe.elements().create("card", {});
  card.mount(document.getElementById("card-element"));
  button.disabled = false;

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    button.disabled = true;
    say(data.working, false);
    var method = {
      payment_method: {
        card: card,
        billing_details: { name: data.name, email: data.email },
      },
    };
    var confirm = data.kind === "setup"
      ? stripe.confirmCardSetup(data.clientSecret, method)
      : stripe.confirmCardPayment(data.clientSecret, method);
    confirm.then(function (result) {
      if (result && result.error) {
        say((result.error.message || "") + " " + data.failed, true);
        button.disabled = false;
        return;
      }
      window.location.assign(data.returnUrl);
    }, function () {
      say(data.failed, true);
      button.disabled = false;
    });
  });
})();

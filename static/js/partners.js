// Partner form: warn while typing when the new partner's name resembles an existing one.
// Progressive enhancement only: without this script the server shows the same warning on submit.
(function () {
  "use strict";

  var form = document.querySelector("form[data-similar-url]");
  var live = document.getElementById("similar-live");
  var input = form && form.querySelector("input[name='name']");
  if (!form || !live || !input) {
    return;
  }
  var MIN_LENGTH = 3;
  var DELAY_MS = 300;
  var timer = null;
  var lastAsked = "";

  function label(partner) {
    var text = partner.name;
    if (partner.acronym && text.toLowerCase().indexOf(partner.acronym.toLowerCase()) === -1) {
      text += " (" + partner.acronym + ")";
    }
    return text;
  }

  // Built with textContent, never innerHTML: partner names are user input. The live region
  // itself stays in the page (empty when nothing resembles) so screen readers announce changes.
  function show(partners) {
    live.replaceChildren();
    if (!partners.length) {
      return;
    }
    var box = document.createElement("div");
    box.className = "similar-live";
    var heading = document.createElement("p");
    heading.textContent = live.dataset.heading;
    var list = document.createElement("ul");
    partners.forEach(function (partner) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = partner.url;
      link.textContent = label(partner);
      item.appendChild(link);
      item.appendChild(document.createTextNode(" · " + partner.country_name));
      list.appendChild(item);
    });
    box.appendChild(heading);
    box.appendChild(list);
    live.appendChild(box);
  }

  function ask() {
    var name = input.value.trim();
    if (name === lastAsked) {
      return;
    }
    lastAsked = name;
    if (name.length < MIN_LENGTH) {
      show([]);
      return;
    }
    fetch(form.dataset.similarUrl + "?name=" + encodeURIComponent(name), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        return response.ok ? response.json() : [];
      })
      .then(function (partners) {
        // Ignore an answer that arrives after the name has changed again.
        if (input.value.trim() === name) {
          show(partners);
        }
      })
      .catch(function () {
        // Offline or refused: the warning on submit still protects against duplicates.
      });
  }

  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(ask, DELAY_MS);
  });
})();

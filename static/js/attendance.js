// Live attendance: fetch the figures every few seconds and refill the page's tables.
// Progressive enhancement: without this script the page shows the figures of its loading.
(function () {
  "use strict";

  var root = document.querySelector("[data-live-url]");
  if (!root || !window.fetch) {
    return;
  }
  var url = root.dataset.liveUrl;
  var seconds = parseInt(root.dataset.refreshSeconds, 10) || 15;
  var status = document.getElementById("live-status");
  var timer = null;

  // Built with textContent, never innerHTML: names come from people's input.
  function cell(row, tag, text, className) {
    var element = document.createElement(tag);
    if (tag === "th") {
      element.scope = "row";
    }
    if (className) {
      element.className = className;
    }
    element.textContent = text === null || text === undefined ? "" : String(text);
    row.appendChild(element);
    return element;
  }

  function meter(value, max, label, high) {
    var element = document.createElement("meter");
    element.min = 0;
    element.max = max || 1;
    element.value = value;
    if (high) {
      element.high = high;
      element.optimum = 0;
    }
    element.setAttribute("aria-label", label);
    element.textContent = String(value);
    return element;
  }

  function fill(bodyId, rows, makeRow) {
    var body = document.getElementById(bodyId);
    if (!body) {
      return;
    }
    var fresh = document.createDocumentFragment();
    rows.forEach(function (item) {
      var row = document.createElement("tr");
      makeRow(row, item);
      fresh.appendChild(row);
    });
    body.replaceChildren(fresh);
    var empty = root.querySelector("[data-empty-for='" + bodyId + "']");
    if (empty) {
      empty.hidden = rows.length > 0;
    }
  }

  function render(data) {
    Object.keys(data.totals).forEach(function (name) {
      var target = root.querySelector("[data-total='" + name + "']");
      if (target) {
        target.textContent = String(data.totals[name]);
      }
    });
    var conflicts = root.querySelector("[data-total='conflicts']");
    if (conflicts) {
      conflicts.parentElement.classList.toggle("tone-bad", data.totals.conflicts > 0);
    }
    fill("live-checkpoints", data.checkpoints, function (row, item) {
      cell(row, "th", item.name);
      cell(row, "td", item.people, "number");
      cell(row, "td", item.entries, "number");
    });
    fill("live-hours", data.hours, function (row, item) {
      cell(row, "th", item.label);
      cell(row, "td", item.entries, "number");
      cell(row, "td", "").appendChild(meter(item.entries, data.busiest_hour, item.label));
    });
    fill("live-sessions", data.sessions, function (row, item) {
      cell(row, "th", item.title);
      cell(row, "td", item.room);
      cell(row, "td", item.starts);
      cell(row, "td", item.state_label);
      cell(row, "td", item.admitted, "number");
      cell(row, "td", item.capacity || root.dataset.noneText, "number");
      var occupancy = cell(row, "td", "");
      if (item.capacity) {
        occupancy.appendChild(meter(item.admitted, item.capacity, item.title, item.capacity * 0.9));
        occupancy.appendChild(document.createTextNode(" " + item.percent + "%"));
      }
    });
    fill("live-countries", data.countries, function (row, item) {
      cell(row, "th", item.name);
      cell(row, "td", item.today, "number");
      cell(row, "td", item.total, "number");
    });
    if (status) {
      status.textContent = root.dataset.updatedText.replace("{time}", data.updated_label);
    }
  }

  function refresh() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(render)
      .catch(function () {
        if (status) {
          status.textContent = root.dataset.failedText;
        }
      });
  }

  function start() {
    if (timer === null) {
      timer = window.setInterval(refresh, seconds * 1000);
    }
  }

  function stop() {
    if (timer !== null) {
      window.clearInterval(timer);
      timer = null;
    }
  }

  // A hidden tab asks for nothing; coming back refreshes at once.
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) {
      stop();
    } else {
      refresh();
      start();
    }
  });
  start();
})();

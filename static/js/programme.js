// Programme pages: times in WITA (the congress's zone, as the server writes them) or in the
// visitor's own zone. Every <time datetime data-format> is rewritten with Intl.DateTimeFormat;
// the choice is remembered in localStorage. Without JavaScript the page simply shows WITA.
(function () {
  "use strict";

  var STORAGE_KEY = "kongres.programme.timeZone";
  var switcher = document.querySelector("[data-zone-switch]");
  if (!switcher || !window.Intl || !Intl.DateTimeFormat) {
    return;
  }
  var select = switcher.querySelector("select");
  var note = document.querySelector("[data-zone-note]");
  var eventZone = switcher.getAttribute("data-event-zone");
  var ownZone = Intl.DateTimeFormat().resolvedOptions().timeZone || eventZone;
  var language = document.documentElement.lang || undefined;
  var times = Array.prototype.slice.call(document.querySelectorAll("time[datetime][data-format]"));
  var eventNote = note ? note.textContent : "";

  // What the server wrote (WITA), to go back to without a reload.
  times.forEach(function (element) {
    element.setAttribute("data-event-text", element.textContent);
  });

  var localOption = select.querySelector('option[value="local"]');
  if (localOption) {
    localOption.textContent = localOption.textContent + " (" + ownZone + ")";
  }

  function calendarDay(moment, zone) {
    return new Intl.DateTimeFormat("en-CA", {
      timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit"
    }).format(moment);
  }

  function formatted(moment, kind, zone) {
    if (kind === "time") {
      var clock = new Intl.DateTimeFormat(language, {
        timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23"
      }).format(moment);
      // The grid is laid out by congress day: say so when the visitor's day is another one.
      if (calendarDay(moment, zone) !== calendarDay(moment, eventZone)) {
        clock += " (" + new Intl.DateTimeFormat(language, {
          timeZone: zone, weekday: "short"
        }).format(moment) + ")";
      }
      return clock;
    }
    return new Intl.DateTimeFormat(language, {
      timeZone: zone, dateStyle: "medium", timeStyle: "short"
    }).format(moment) + " " + zoneAbbreviation(moment, zone);
  }

  function zoneAbbreviation(moment, zone) {
    var parts = new Intl.DateTimeFormat(language, {
      timeZone: zone, timeZoneName: "short"
    }).formatToParts(moment);
    for (var index = 0; index < parts.length; index += 1) {
      if (parts[index].type === "timeZoneName") {
        return parts[index].value;
      }
    }
    return zone;
  }

  function show(choice) {
    var zone = choice === "local" ? ownZone : null;
    times.forEach(function (element) {
      if (!zone) {
        element.textContent = element.getAttribute("data-event-text");
        return;
      }
      var moment = new Date(element.getAttribute("datetime"));
      if (!isNaN(moment.getTime())) {
        element.textContent = formatted(moment, element.getAttribute("data-format"), zone);
      }
    });
    if (note) {
      note.textContent = zone
        ? note.getAttribute("data-local-template").replace("{zone}", ownZone)
        : eventNote;
    }
  }

  function remembered() {
    try {
      return window.localStorage.getItem(STORAGE_KEY);
    } catch (error) {
      return null; // storage refused (private browsing): WITA, as without JavaScript
    }
  }

  function remember(choice) {
    try {
      window.localStorage.setItem(STORAGE_KEY, choice);
    } catch (error) {
      // Not remembered, still shown.
    }
  }

  select.value = remembered() === "local" ? "local" : "event";
  select.addEventListener("change", function () {
    remember(select.value);
    show(select.value);
  });
  switcher.hidden = false;
  show(select.value);
})();

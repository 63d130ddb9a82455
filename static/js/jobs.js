// A background job's page: polls the job's state (GET /jobs/<id>.json), moves the progress bar,
// then shows the download link or the error. Backs off while the job runs long, and keeps
// trying after a failed request (the network or the server may come back).
(function () {
  "use strict";

  var panel = document.querySelector("[data-job-status-url]");
  if (!panel) {
    return;
  }
  var url = panel.dataset.jobStatusUrl;
  var delay = Math.max(0.5, parseFloat(panel.dataset.pollSeconds) || 1) * 1000;
  var maxDelay = 5000;
  var bar = panel.querySelector("[data-job-progress]");
  var label = panel.querySelector("[data-job-status-label]");
  var count = panel.querySelector("[data-job-count]");
  var errorBox = panel.querySelector("[data-job-error]");
  var download = panel.querySelector("[data-job-download]");
  var reload = panel.querySelector("[data-job-reload]");
  var tones = { done: "badge-ok", failed: "badge-bad" };

  function progressText(done, total) {
    return (panel.dataset.textProgress || "{done} / {total}")
      .replace("{done}", String(done))
      .replace("{total}", String(total));
  }

  function show(state) {
    if (state.total) {
      bar.max = state.total;
      bar.value = state.done;
      count.textContent = progressText(state.done, state.total);
    } else {
      bar.max = 100;
      bar.value = state.percent;
    }
    bar.textContent = state.percent + "%";
    label.textContent = state.status_label;
    label.className = "badge " + (tones[state.status] || "badge-warn");
    if (state.error) {
      errorBox.textContent = state.error;
      errorBox.hidden = false;
    }
    if (state.download_url) {
      download.querySelector("a").href = state.download_url;
      download.hidden = false;
    }
    if (state.finished && reload) {
      reload.hidden = true;
    }
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (state) {
        show(state);
        if (!state.finished) {
          delay = Math.min(maxDelay, delay * 1.2);
          window.setTimeout(poll, delay);
        }
      })
      .catch(function () {
        errorBox.textContent = panel.dataset.textFailedRequest || "";
        errorBox.hidden = false;
        window.setTimeout(function () {
          errorBox.hidden = true;
          poll();
        }, maxDelay);
      });
  }

  window.setTimeout(poll, delay);
})();

// Timetable editor: drag a session to another time or room (or onto the unscheduled list, or
// from it onto the grid); the server moves it and the page reloads with conflicts recomputed.
// Progressive enhancement only: every session's page has a "Move" form that does the same.
(function () {
  "use strict";

  var editor = document.getElementById("timetable-editor");
  var grid = editor && editor.querySelector(".timetable-grid.is-editable");
  var tray = editor && editor.querySelector("[data-drop-unschedule]");
  var status = document.getElementById("timetable-status");
  var tokenMeta = document.querySelector('meta[name="csrf-token"]');
  if (!editor || !status || !tokenMeta) {
    return;
  }
  var MINUTES_PER_DAY = 24 * 60;
  var dragged = null;
  var hoveredLane = null;
  var marker = document.createElement("div");
  marker.className = "drop-marker";
  marker.setAttribute("aria-hidden", "true");

  function pad(number) {
    return (number < 10 ? "0" : "") + number;
  }

  function say(message, isError) {
    status.textContent = message;
    status.classList.toggle("is-error", Boolean(isError));
  }

  // The move URL is rendered for session 0; the id is the path segment before "/move".
  function moveUrl(sessionId) {
    return editor.dataset.moveUrl.replace(/\/0\/move$/, "/" + sessionId + "/move");
  }

  function lanes() {
    return grid ? Array.prototype.slice.call(grid.querySelectorAll(".room-lane")) : [];
  }

  // Lanes span the whole day, so the column under the pointer is found by x alone, also when
  // the pointer is over another session.
  function laneAt(clientX) {
    var found = null;
    lanes().forEach(function (lane) {
      var box = lane.getBoundingClientRect();
      if (clientX >= box.left && clientX < box.right) {
        found = lane;
      }
    });
    return found;
  }

  // The top of every slot row, measured from the top of the lanes (row 2). Rows grow with
  // long session texts, so they are read from the laid-out grid, not assumed equal.
  function slotTops(lane, slotCount) {
    var sizes = (window.getComputedStyle(grid).gridTemplateRows.match(/[\d.]+px/g) || []).map(
      parseFloat
    );
    var gap = parseFloat(window.getComputedStyle(grid).rowGap) || 0;
    var tops = [];
    var top = 0;
    var index;
    if (sizes.length < slotCount + 1) {
      // Not laid out as a grid (a narrow screen): assume equal rows.
      for (index = 0; index < slotCount; index += 1) {
        tops.push((index / slotCount) * lane.getBoundingClientRect().height);
      }
      return tops;
    }
    for (index = 1; index <= slotCount; index += 1) {
      tops.push(top);
      top += sizes[index] + gap;
    }
    return tops;
  }

  // The start time for a drop at clientY: the session's top edge (where it was grabbed
  // subtracted) at the nearest slot of the grid.
  function startAt(lane, clientY) {
    var first = grid.dataset.firstSlot.split(":");
    var firstMinutes = Number(first[0]) * 60 + Number(first[1]);
    var slotMinutes = Number(grid.dataset.slotMinutes) || 5;
    var slotCount = Number(grid.dataset.slotCount) || 1;
    var offset = clientY - (dragged ? dragged.grabOffset : 0) - lane.getBoundingClientRect().top;
    var tops = slotTops(lane, slotCount);
    var slot = 0;
    tops.forEach(function (top, index) {
      if (Math.abs(top - offset) < Math.abs(tops[slot] - offset)) {
        slot = index;
      }
    });
    var minutes = Math.min(firstMinutes + slot * slotMinutes, MINUTES_PER_DAY - slotMinutes);
    return {
      text: pad(Math.floor(minutes / 60)) + ":" + pad(minutes % 60),
      top: tops[slot],
    };
  }

  function clearHover() {
    if (hoveredLane) {
      hoveredLane.classList.remove("drop-hover");
      hoveredLane = null;
    }
    if (marker.parentNode) {
      marker.parentNode.removeChild(marker);
    }
    if (tray) {
      tray.classList.remove("drop-hover");
    }
  }

  function move(sessionId, day, start, roomId) {
    var body = new FormData();
    body.append("csrf_token", tokenMeta.getAttribute("content"));
    body.append("day", day);
    body.append("start", start);
    body.append("room_id", roomId);
    say(editor.dataset.movingText, false);
    fetch(moveUrl(sessionId), {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch", Accept: "application/json" },
    })
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return {};
          })
          .then(function (answer) {
            return { ok: response.ok && answer.ok, answer: answer };
          });
      })
      .then(function (result) {
        if (result.ok) {
          // Conflicts, the unscheduled list and the grid are all drawn by the server.
          window.location.reload();
        } else {
          say(result.answer.error || editor.dataset.failedText, true);
        }
      })
      .catch(function () {
        say(editor.dataset.failedText, true);
      });
  }

  editor.addEventListener("dragstart", function (event) {
    var item = event.target.closest && event.target.closest("[data-session-id][draggable='true']");
    if (!item || !editor.contains(item)) {
      return;
    }
    var onGrid = grid && grid.contains(item);
    dragged = {
      id: item.dataset.sessionId,
      element: item,
      onGrid: onGrid,
      roomId: item.dataset.roomId || "",
      // A break without a room spans every column: moving it in time keeps it so.
      keepsNoRoom: item.classList.contains("kind-break") && !item.dataset.roomId,
      grabOffset: onGrid ? event.clientY - item.getBoundingClientRect().top : 0,
    };
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", dragged.id);
    item.classList.add("is-dragging");
  });

  editor.addEventListener("dragend", function () {
    if (dragged) {
      dragged.element.classList.remove("is-dragging");
    }
    dragged = null;
    clearHover();
  });

  if (grid) {
    grid.addEventListener("dragover", function (event) {
      if (!dragged) {
        return;
      }
      var lane = laneAt(event.clientX);
      if (!lane) {
        clearHover();
        return;
      }
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      if (lane !== hoveredLane) {
        clearHover();
        hoveredLane = lane;
        lane.classList.add("drop-hover");
        lane.appendChild(marker);
      }
      var start = startAt(lane, event.clientY);
      marker.textContent = start.text;
      marker.style.top = start.top + "px";
    });

    grid.addEventListener("dragleave", function (event) {
      if (!grid.contains(event.relatedTarget)) {
        clearHover();
      }
    });

    grid.addEventListener("drop", function (event) {
      if (!dragged) {
        return;
      }
      var lane = laneAt(event.clientX);
      if (!lane) {
        return;
      }
      event.preventDefault();
      var start = startAt(lane, event.clientY).text;
      var roomId = dragged.keepsNoRoom ? "" : lane.dataset.roomId || "";
      var sessionId = dragged.id;
      clearHover();
      move(sessionId, grid.dataset.day, start, roomId);
    });

    // A double click on an empty part of a room's column starts a new session there.
    grid.addEventListener("dblclick", function (event) {
      if (!event.target.classList.contains("room-lane")) {
        return;
      }
      var start = startAt(event.target, event.clientY).text;
      var query = new URLSearchParams({
        day: grid.dataset.day,
        start: start,
        room_id: event.target.dataset.roomId || "",
      });
      window.location.assign(editor.dataset.newUrl + "?" + query.toString());
    });
  }

  if (tray) {
    tray.addEventListener("dragover", function (event) {
      if (!dragged || !dragged.onGrid) {
        return;
      }
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      tray.classList.add("drop-hover");
    });

    tray.addEventListener("dragleave", function (event) {
      if (!tray.contains(event.relatedTarget)) {
        tray.classList.remove("drop-hover");
      }
    });

    tray.addEventListener("drop", function (event) {
      if (!dragged || !dragged.onGrid) {
        return;
      }
      event.preventDefault();
      var sessionId = dragged.id;
      var roomId = dragged.roomId;
      clearHover();
      // No day takes the session off the timetable; it keeps its room.
      move(sessionId, "", "", roomId);
    });
  }
})();

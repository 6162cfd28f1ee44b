// Camera pages: reload a JPEG snapshot every data-refresh-seconds seconds
// with a button to pause it, and pause or resume an MJPEG stream. With
// prefers-reduced-motion the snapshot starts paused. Without this script
// the page shows the picture as it was when the page loaded.
(function () {
  "use strict";

  var reduceMotion =
    window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  function controlsFor(picture) {
    var figure = picture.closest("figure");
    return {
      note: figure && figure.querySelector("[data-camera-note]"),
      toggle: figure && figure.querySelector("[data-camera-toggle]"),
    };
  }

  function showState(controls, paused, failed) {
    if (controls.toggle) {
      controls.toggle.textContent = paused
        ? controls.toggle.dataset.resumeLabel
        : controls.toggle.dataset.pauseLabel;
      controls.toggle.hidden = false;
    }
    if (controls.note) {
      var note = controls.note.dataset.runningNote;
      if (paused) {
        note = controls.note.dataset.pausedNote;
      } else if (failed && controls.note.dataset.failedNote) {
        note = controls.note.dataset.failedNote;
      }
      controls.note.textContent = note;
    }
  }

  // Return the URL with a changing query parameter, so that the browser
  // fetches a new picture instead of reusing the cached one.
  function freshUrl(url) {
    var hashAt = url.indexOf("#");
    var base = hashAt < 0 ? url : url.slice(0, hashAt);
    var separator = base.indexOf("?") < 0 ? "?" : "&";
    return base + separator + "_=" + Date.now();
  }

  function startSnapshot(picture) {
    var controls = controlsFor(picture);
    var originalUrl = picture.getAttribute("src");
    var seconds = parseInt(picture.dataset.refreshSeconds, 10) || 30;
    var paused = reduceMotion;
    var failed = false;
    var timer = null;

    function schedule() {
      window.clearTimeout(timer);
      timer = null;
      if (!paused && !document.hidden) {
        timer = window.setTimeout(reload, seconds * 1000);
      }
    }

    // Load the next picture off screen and swap it in only when it arrived,
    // so a failed load keeps the last good picture.
    function reload() {
      var next = new Image();
      next.onload = function () {
        picture.src = next.src;
        failed = false;
        showState(controls, paused, failed);
        schedule();
      };
      next.onerror = function () {
        failed = true;
        showState(controls, paused, failed);
        schedule();
      };
      next.src = freshUrl(originalUrl);
    }

    if (controls.toggle) {
      controls.toggle.addEventListener("click", function () {
        paused = !paused;
        showState(controls, paused, failed);
        if (paused) {
          schedule();
        } else {
          reload();
        }
      });
    }
    document.addEventListener("visibilitychange", schedule);
    showState(controls, paused, failed);
    schedule();
  }

  function startStream(picture) {
    var controls = controlsFor(picture);
    var streamUrl = picture.getAttribute("src");
    var still = null;
    var paused = false;

    // Keep the last frame on a canvas and close the stream's connection.
    function pause() {
      still = document.createElement("canvas");
      still.className = picture.className;
      still.setAttribute("role", "img");
      still.setAttribute("aria-label", picture.alt);
      still.width = picture.naturalWidth || picture.width;
      still.height = picture.naturalHeight || picture.height;
      try {
        still.getContext("2d").drawImage(picture, 0, 0, still.width, still.height);
      } catch (error) {
        // An empty canvas still stops the motion.
      }
      picture.after(still);
      picture.hidden = true;
      picture.removeAttribute("src");
    }

    function resume() {
      picture.src = streamUrl;
      picture.hidden = false;
      if (still) {
        still.remove();
        still = null;
      }
    }

    if (controls.toggle) {
      controls.toggle.addEventListener("click", function () {
        paused = !paused;
        if (paused) {
          pause();
        } else {
          resume();
        }
        showState(controls, paused, false);
      });
    }
    showState(controls, paused, false);
  }

  document.querySelectorAll("img[data-camera-snapshot]").forEach(startSnapshot);
  document.querySelectorAll("img[data-camera-stream]").forEach(startStream);
})();

/* The request page's cut stack: after the uploader attaches a new cut, show it; while a
 * cut is still being processed, follow its progress and refresh when it is ready. */
(function () {
  "use strict";
  var section = document.getElementById("cuts");
  if (!section) return;
  section.addEventListener("kadr:uploaded", function () {
    setTimeout(function () { location.reload(); }, 300);
  });
  var pending = section.querySelectorAll("[data-version-poll]");
  if (!pending.length) return;
  var timer = setInterval(function () {
    Array.prototype.forEach.call(pending, function (item) {
      fetch(item.dataset.versionPoll, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (body) {
          if (!body) return;
          var out = item.querySelector("[data-progress]");
          if (out) out.textContent = body.media_progress + "%";
          var bar = item.querySelector("progress");
          if (bar) bar.value = body.media_progress;
          if (body.media_status === "ready" || body.media_status === "failed") {
            clearInterval(timer);
            location.reload();
          }
        })
        .catch(function () {});
    });
  }, 3000);
})();

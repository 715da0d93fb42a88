/* The shoot page: while a clip's preview is being made, poll its progress through the
   media API and reload the footage list when it is ready or has failed. Without
   JavaScript the page simply shows the state at load time. */
(function () {
  "use strict";
  var section = document.getElementById("footage");
  if (!section || !window.fetch) return;

  function pending() {
    return section.querySelectorAll('.clip[data-status="processing"], .clip[data-status="uploaded"]');
  }

  function refreshList() {
    fetch(window.location.href, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.querySelector("#footage .clips");
        var current = section.querySelector(".clips");
        if (fresh && current) current.replaceWith(fresh);
      });
  }

  function poll() {
    var clips = pending();
    if (!clips.length) return;
    var changed = false;
    var requests = Array.prototype.map.call(clips, function (clip) {
      return fetch("/api/v1/media/" + clip.dataset.mediaId + "/", { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) return;
          var bar = clip.querySelector("progress");
          var label = clip.querySelector(".clip-progress");
          if (bar && typeof data.progress === "number") bar.value = data.progress;
          if (label && typeof data.progress === "number") label.textContent = data.progress + "%";
          if (data.status === "ready" || data.status === "failed") changed = true;
        })
        .catch(function () {});
    });
    Promise.all(requests).then(function () {
      if (changed) refreshList();
      window.setTimeout(poll, 4000);
    });
  }

  window.setTimeout(poll, 3000);
  // A finished upload adds a clip: the uploader announces it with this event.
  document.addEventListener("kadr:uploaded", function () { window.setTimeout(refreshList, 500); });
})();

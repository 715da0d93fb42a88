/* The shoot page: while a clip's preview is being made, poll its progress through the
   media API, and reload the footage list when a clip is ready or has failed, or when
   the uploader reports a finished upload. The whole list (its heading, the empty-state
   note, the clips) is replaced, so the first clip on an empty shoot appears without a
   reload and is then polled like the others; a ready clip whose state did not change
   keeps its element, so a preview being watched is not restarted. Without JavaScript
   the page simply shows the state at load time. */
(function () {
  "use strict";
  var list = document.getElementById("footage-list");
  if (!list || !window.fetch || !window.Promise || !window.DOMParser) return;
  var timer = null;

  function pending() {
    return list.querySelectorAll('.clip[data-status="processing"], .clip[data-status="uploaded"]');
  }

  function schedule(delay) {
    if (timer === null && pending().length) timer = window.setTimeout(poll, delay);
  }

  function keepUnchanged(fresh) {
    Array.prototype.forEach.call(fresh.querySelectorAll(".clip[data-media-id]"), function (clip) {
      var id = clip.getAttribute("data-media-id");
      var old = list.querySelector('.clip[data-media-id="' + id + '"]');
      var status = clip.getAttribute("data-status");
      if (old && status === "ready" && old.getAttribute("data-status") === status) {
        clip.replaceWith(old);
      }
    });
  }

  function refreshList() {
    return fetch(window.location.href, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("footage-list");
        if (!fresh) return;
        fresh = document.importNode(fresh, true);
        keepUnchanged(fresh);
        list.replaceChildren.apply(list, Array.prototype.slice.call(fresh.childNodes));
      })
      .catch(function () {})
      .then(function () { schedule(3000); });
  }

  function poll() {
    timer = null;
    var changed = false;
    var checks = Array.prototype.map.call(pending(), function (clip) {
      return fetch("/api/v1/media/" + clip.dataset.mediaId + "/", { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) return;
          var bar = clip.querySelector("progress");
          var label = clip.querySelector(".clip-progress");
          if (typeof data.progress === "number") {
            if (bar) bar.value = data.progress;
            if (label) label.textContent = data.progress + "%";
          }
          if (data.status === "ready" || data.status === "failed") changed = true;
        })
        .catch(function () {});
    });
    Promise.all(checks).then(function () {
      if (changed) refreshList();
      else schedule(4000);
    });
  }

  schedule(3000);
  // The uploader fires a bubbling "kadr:uploaded" when a file is stored and attached:
  // the list is fetched even when it was empty, and its new clips are then polled.
  document.addEventListener("kadr:uploaded", function () { window.setTimeout(refreshList, 300); });
})();

/* Plays HLS through hls.js (adaptive bitrate) where Media Source Extensions exist;
   otherwise the <source> elements (native HLS on iOS, then MP4) do the job. */
(function () {
  "use strict";
  var videos = document.querySelectorAll("video[data-hls]");
  Array.prototype.forEach.call(videos, function (video) {
    if (!window.Hls || !window.Hls.isSupported()) {
      return;
    }
    var hls = new window.Hls({ capLevelToPlayerSize: true });
    hls.on(window.Hls.Events.ERROR, function (_event, data) {
      if (data.fatal) {
        // Fall back to the MP4 source the page lists.
        hls.destroy();
        var mp4 = video.querySelector('source[type="video/mp4"]');
        if (mp4) {
          video.src = mp4.src;
        }
      }
    });
    hls.loadSource(video.getAttribute("data-hls"));
    hls.attachMedia(video);
  });
  var title = document.querySelector("body.embed .title");
  if (title) {
    Array.prototype.forEach.call(videos.length ? videos : document.querySelectorAll("video"), function (video) {
      video.addEventListener("play", function () { title.hidden = true; });
      video.addEventListener("pause", function () { title.hidden = false; });
    });
  }
})();

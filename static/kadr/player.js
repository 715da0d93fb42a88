/* Kadr review player: HLS (hls.js, or the browser's own) with an MP4 fallback, a quality
 * menu, storyboard thumbnails on the scrub bar, an HH:MM:SS:FF timecode at the source
 * frame rate, J/K/L + arrows, timecoded comments (click to seek, "comment here"), and
 * two players kept in step on the compare page.
 *
 * Progressive enhancement: without this file the <video> plays its MP4 sources with
 * native controls and the comment form takes a typed time. Text from users is only
 * ever put into the page with textContent.
 */
(function () {
  "use strict";

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function smpte(t, fps) {
    if (!isFinite(t) || t < 0) t = 0;
    var whole = Math.floor(t + 1e-6);
    var frame = Math.floor((t - whole) * fps + 1e-3);
    frame = Math.max(0, Math.min(frame, Math.ceil(fps) - 1));
    var h = Math.floor(whole / 3600), m = Math.floor((whole % 3600) / 60), s = whole % 60;
    return pad(h) + ":" + pad(m) + ":" + pad(s) + ":" + pad(frame);
  }

  function parseVttTime(text) {
    var parts = text.trim().split(":");
    var secs = 0;
    for (var i = 0; i < parts.length; i++) secs = secs * 60 + parseFloat(parts[i]);
    return secs;
  }

  /* Storyboard WebVTT: cues whose text is "sprite.jpg#xywh=x,y,w,h". */
  function loadStoryboard(url) {
    return fetch(url, { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (text) {
        var cues = [];
        var blocks = text.replace(/\r/g, "").split(/\n\n+/);
        blocks.forEach(function (block) {
          var lines = block.split("\n");
          for (var i = 0; i < lines.length; i++) {
            if (lines[i].indexOf("-->") === -1) continue;
            var times = lines[i].split("-->");
            var ref = (lines[i + 1] || "").trim();
            var hash = ref.split("#xywh=");
            if (hash.length !== 2) return;
            var xywh = hash[1].split(",").map(Number);
            cues.push({
              start: parseVttTime(times[0]),
              end: parseVttTime(times[1].trim().split(" ")[0]),
              src: new URL(hash[0], new URL(url, location.href)).href,
              x: xywh[0], y: xywh[1], w: xywh[2], h: xywh[3]
            });
            return;
          }
        });
        return cues;
      });
  }

  /* Seconds from "12.5", "00:01:02", "00:00:01:12" (frames at fps) or "01:02"; null if blank. */
  function parseTimecode(value, fps) {
    value = (value || "").trim().replace(",", ".");
    if (!value) return null;
    if (/^\d+(\.\d+)?$/.test(value)) return parseFloat(value);
    var parts = value.split(":");
    if (parts.some(function (p) { return !/^\d+$/.test(p); })) return NaN;
    var n = parts.map(Number);
    if (n.length === 4) return n[0] * 3600 + n[1] * 60 + n[2] + n[3] / fps;
    if (n.length === 3) return n[0] * 3600 + n[1] * 60 + n[2];
    if (n.length === 2) return n[0] * 60 + n[1];
    return NaN;
  }

  function isTyping(target) {
    if (!target) return false;
    var tag = target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
  }

  function Player(root) {
    this.root = root;
    this.video = root.querySelector("video");
    this.fps = parseFloat(root.dataset.fps) || 25;
    this.duration = parseFloat(root.dataset.duration) || 0;
    this.controls = root.querySelector(".kp-controls");
    this.scrub = root.querySelector(".kp-scrub");
    this.played = root.querySelector(".kp-played");
    this.buffered = root.querySelector(".kp-buffered");
    this.marks = root.querySelector(".kp-marks");
    this.preview = root.querySelector(".kp-preview");
    this.thumb = root.querySelector(".kp-thumb");
    this.previewTime = root.querySelector(".kp-preview-time");
    this.timeOut = root.querySelector(".kp-time");
    this.playBtn = root.querySelector(".kp-play");
    this.rateOut = root.querySelector(".kp-rate");
    this.quality = root.querySelector(".kp-quality");
    this.cues = [];
    this.shuttle = null;
    this.mp4 = Array.prototype.map.call(root.querySelectorAll("video source"), function (s) {
      return { name: s.dataset.name, height: +s.dataset.height, url: s.src || s.getAttribute("src") };
    });
    this.setUpSource();
    this.setUpControls();
    if (root.dataset.storyboard) {
      var self = this;
      loadStoryboard(root.dataset.storyboard).then(function (cues) { self.cues = cues; })
        .catch(function () { self.cues = []; });
    }
    if (root.dataset.start) this.seekWhenReady(parseFloat(root.dataset.start));
  }

  Player.prototype.label = function (key) { return this.root.dataset["l" + key] || key; };

  Player.prototype.addOption = function (value, text, selected) {
    var opt = document.createElement("option");
    opt.value = value;
    opt.textContent = text;
    if (selected) opt.selected = true;
    this.quality.appendChild(opt);
  };

  Player.prototype.setUpSource = function () {
    var self = this, video = this.video, hlsUrl = this.root.dataset.hls;
    var nativeHls = video.canPlayType("application/vnd.apple.mpegurl");
    if (hlsUrl && window.Hls && window.Hls.isSupported()) {
      var hls = new window.Hls({ capLevelToPlayerSize: true, startLevel: -1 });
      this.hls = hls;
      hls.on(window.Hls.Events.MANIFEST_PARSED, function () {
        self.quality.textContent = "";
        self.addOption("-1", self.label("Auto"), true);
        hls.levels.forEach(function (level, i) {
          self.addOption(String(i), level.height ? level.height + "p" : String(i + 1), false);
        });
      });
      hls.on(window.Hls.Events.ERROR, function (event, data) {
        if (data && data.fatal) {  // fall back to the MP4 renditions
          hls.destroy();
          self.hls = null;
          self.useMp4(0);
        }
      });
      hls.loadSource(hlsUrl);
      hls.attachMedia(video);
      this.quality.addEventListener("change", function () {
        hls.currentLevel = parseInt(self.quality.value, 10);
      });
      return;
    }
    if (hlsUrl && nativeHls) {
      video.src = hlsUrl;
      this.addOption("hls", this.label("Auto"), true);
      this.mp4.forEach(function (r, i) { self.addOption(String(i), r.name, false); });
      this.quality.addEventListener("change", function () {
        if (self.quality.value === "hls") self.switchTo(hlsUrl); else self.useMp4(+self.quality.value);
      });
      return;
    }
    this.useMp4(this.pickMp4());
    this.mp4.forEach(function (r, i) { self.addOption(String(i), r.name, i === self.current); });
    this.quality.addEventListener("change", function () { self.useMp4(+self.quality.value); });
  };

  /* The smallest rendition at least as tall as the player, else the biggest. */
  Player.prototype.pickMp4 = function () {
    var need = (this.root.clientHeight || 360) * (window.devicePixelRatio || 1);
    var best = 0;
    for (var i = 0; i < this.mp4.length; i++) if (this.mp4[i].height >= need) best = i;
    return best;
  };

  Player.prototype.useMp4 = function (i) {
    if (!this.mp4.length) return;
    this.current = i;
    this.switchTo(this.mp4[i].url);
  };

  Player.prototype.switchTo = function (url) {
    var video = this.video, t = video.currentTime, paused = video.paused;
    if (video.currentSrc === url) return;
    video.src = url;
    if (t > 0) this.seekWhenReady(t);
    if (!paused) video.play().catch(function () {});
  };

  Player.prototype.seekWhenReady = function (t) {
    var video = this.video;
    if (video.readyState >= 1) { video.currentTime = t; return; }
    video.addEventListener("loadedmetadata", function once() {
      video.removeEventListener("loadedmetadata", once);
      video.currentTime = t;
    });
  };

  Player.prototype.total = function () {
    return isFinite(this.video.duration) && this.video.duration > 0 ? this.video.duration : this.duration;
  };

  Player.prototype.seek = function (t) {
    var total = this.total();
    this.video.currentTime = Math.max(0, total ? Math.min(t, total) : t);
    this.render();
  };

  Player.prototype.step = function (frames) {
    this.stopShuttle();
    this.video.pause();
    this.seek(this.video.currentTime + frames / this.fps);
  };

  Player.prototype.toggle = function () {
    this.stopShuttle();
    if (this.video.paused) { this.video.playbackRate = 1; this.video.play().catch(function () {}); }
    else this.video.pause();
  };

  Player.prototype.stopShuttle = function () {
    if (this.shuttle) { clearInterval(this.shuttle.timer); this.shuttle = null; }
    this.showRate(this.video.playbackRate);
  };

  /* L: play forward, faster on each press. J: back, faster on each press (stepped,
   * since browsers do not play backwards). K: stop. */
  Player.prototype.forward = function () {
    var video = this.video;
    if (this.shuttle) this.stopShuttle();
    if (video.paused) { video.playbackRate = 1; video.play().catch(function () {}); }
    else video.playbackRate = Math.min(video.playbackRate * 2, 8);
    this.showRate(video.playbackRate);
  };

  Player.prototype.backward = function () {
    var self = this, video = this.video;
    video.pause();
    var speed = this.shuttle ? Math.min(this.shuttle.speed * 2, 8) : 1;
    if (this.shuttle) clearInterval(this.shuttle.timer);
    this.shuttle = {
      speed: speed,
      timer: setInterval(function () {
        if (video.currentTime <= 0) { self.stopShuttle(); return; }
        self.seek(video.currentTime - 0.1 * speed);
      }, 100)
    };
    this.showRate(-speed);
  };

  Player.prototype.showRate = function (rate) {
    if (!this.rateOut) return;
    this.rateOut.hidden = rate === 1;
    this.rateOut.textContent = (rate < 0 ? "◀ " : "") + Math.abs(rate) + "×";
  };

  Player.prototype.render = function () {
    var video = this.video, total = this.total(), t = video.currentTime;
    this.timeOut.textContent = smpte(t, this.fps);
    if (total) {
      this.played.style.width = (100 * t / total) + "%";
      this.scrub.setAttribute("aria-valuenow", t.toFixed(2));
      this.scrub.setAttribute("aria-valuetext", smpte(t, this.fps));
      if (video.buffered.length) {
        this.buffered.style.width = (100 * video.buffered.end(video.buffered.length - 1) / total) + "%";
      }
    }
    var playing = !video.paused;
    this.root.classList.toggle("is-playing", playing);
    this.playBtn.setAttribute("aria-label", playing ? this.label("Pause") : this.label("Play"));
    this.root.dispatchEvent(new CustomEvent("kadr:time", { detail: { time: t } }));
  };

  Player.prototype.timeAt = function (clientX) {
    var rect = this.scrub.getBoundingClientRect();
    var ratio = Math.max(0, Math.min(1, (clientX - rect.left) / rect.width));
    return ratio * this.total();
  };

  Player.prototype.showPreview = function (clientX) {
    var t = this.timeAt(clientX), rect = this.scrub.getBoundingClientRect();
    this.preview.hidden = false;
    this.previewTime.textContent = smpte(t, this.fps);
    var cue = null;
    for (var i = 0; i < this.cues.length; i++) {
      if (t >= this.cues[i].start && t < this.cues[i].end) { cue = this.cues[i]; break; }
    }
    if (!cue && this.cues.length) cue = this.cues[this.cues.length - 1];
    var width = 120;
    if (cue) {
      width = cue.w;
      this.thumb.hidden = false;
      this.thumb.style.width = cue.w + "px";
      this.thumb.style.height = cue.h + "px";
      this.thumb.style.backgroundImage = "url(\"" + cue.src.replace(/"/g, "%22") + "\")";
      this.thumb.style.backgroundPosition = (-cue.x) + "px " + (-cue.y) + "px";
    } else {
      this.thumb.hidden = true;
    }
    var left = Math.max(0, Math.min(rect.width - width, clientX - rect.left - width / 2));
    this.preview.style.left = left + "px";
  };

  Player.prototype.setMarks = function (items) {
    var self = this, total = this.total();
    this.marks.textContent = "";
    if (!total) return;
    items.forEach(function (item) {
      var mark = document.createElement("span");
      mark.className = "kp-mark" + (item.resolved ? " resolved" : "");
      mark.style.left = (100 * item.start / total) + "%";
      if (item.end != null) mark.style.width = Math.max(0.5, 100 * (item.end - item.start) / total) + "%";
      mark.title = smpte(item.start, self.fps);
      self.marks.appendChild(mark);
    });
  };

  Player.prototype.setUpControls = function () {
    var self = this, video = this.video, root = this.root;
    video.controls = false;
    this.controls.hidden = false;
    root.tabIndex = root.tabIndex >= 0 ? root.tabIndex : 0;
    ["timeupdate", "play", "pause", "seeked", "progress", "loadedmetadata", "ratechange"].forEach(function (e) {
      video.addEventListener(e, function () { self.render(); });
    });
    video.addEventListener("loadedmetadata", function () { root.dispatchEvent(new CustomEvent("kadr:ready")); });
    video.addEventListener("click", function () { self.toggle(); });
    this.playBtn.addEventListener("click", function () { self.toggle(); });
    root.querySelector(".kp-back").addEventListener("click", function () { self.step(-1); });
    root.querySelector(".kp-fwd").addEventListener("click", function () { self.step(1); });
    var mute = root.querySelector(".kp-mute");
    mute.addEventListener("click", function () {
      video.muted = !video.muted;
      root.classList.toggle("is-muted", video.muted);
    });
    root.querySelector(".kp-full").addEventListener("click", function () {
      if (document.fullscreenElement) { document.exitFullscreen(); return; }
      if (root.requestFullscreen) root.requestFullscreen();
      else if (video.webkitEnterFullscreen) video.webkitEnterFullscreen();
    });

    var dragging = false;
    this.scrub.addEventListener("pointerdown", function (e) {
      dragging = true;
      self.scrub.setPointerCapture(e.pointerId);
      self.seek(self.timeAt(e.clientX));
      self.showPreview(e.clientX);
    });
    this.scrub.addEventListener("pointermove", function (e) {
      self.showPreview(e.clientX);
      if (dragging) self.seek(self.timeAt(e.clientX));
    });
    function end() { dragging = false; self.preview.hidden = true; }
    this.scrub.addEventListener("pointerup", end);
    this.scrub.addEventListener("pointercancel", end);
    this.scrub.addEventListener("pointerleave", function () { if (!dragging) self.preview.hidden = true; });

    root.addEventListener("keydown", function (e) {
      if (isTyping(e.target)) return;
      if (e.target.tagName === "BUTTON" && (e.key === " " || e.key === "Enter")) return;
      if (self.handleKey(e)) e.preventDefault();
    });
    this.render();
  };

  Player.prototype.handleKey = function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return false;
    switch (e.key) {
      case " ": case "Spacebar": this.toggle(); return true;
      case "k": case "K": this.stopShuttle(); this.video.pause(); this.video.playbackRate = 1; return true;
      case "l": case "L": this.forward(); return true;
      case "j": case "J": this.backward(); return true;
      case "ArrowLeft": this.step(e.shiftKey ? -this.fps : -1); return true;
      case "ArrowRight": this.step(e.shiftKey ? this.fps : 1); return true;
      case "Home": this.seek(0); return true;
      case "End": this.seek(this.total()); return true;
      default: return false;
    }
  };

  /* --- The comments beside the player ---------------------------------------------- */

  function wireComments(player) {
    var list = document.querySelector("[data-comments]");
    var form = document.querySelector("[data-comment-form]");
    if (list) {
      var items = [];
      var collect = function () {
        items = Array.prototype.slice.call(list.querySelectorAll("li.comment[data-timecode]"));
        player.setMarks(items.map(function (li) {
          return {
            start: parseFloat(li.dataset.timecode),
            end: li.dataset.timecodeEnd ? parseFloat(li.dataset.timecodeEnd) : null,
            resolved: li.classList.contains("resolved")
          };
        }));
      };
      collect();
      player.root.addEventListener("kadr:ready", collect);
      list.addEventListener("kadr:comments-changed", collect);
      list.addEventListener("click", function (e) {
        var link = e.target.closest("[data-seek]");
        if (!link) return;
        e.preventDefault();
        player.video.pause();
        player.seek(parseFloat(link.dataset.seek));
        player.root.focus({ preventScroll: true });
      });
      player.root.addEventListener("kadr:time", function (e) {
        var t = e.detail.time, near = 0.5;
        items.forEach(function (li) {
          var start = parseFloat(li.dataset.timecode);
          var end = li.dataset.timecodeEnd ? parseFloat(li.dataset.timecodeEnd) : start + near;
          li.classList.toggle("current", t >= start - 0.05 && t <= end);
        });
      });
    }
    if (form) {
      var tcIn = form.querySelector(".tc-in"), tcOut = form.querySelector(".tc-out");
      var text = form.querySelector("textarea[name=text]");
      var buttons = form.querySelector(".tc-buttons");
      var problem = form.querySelector("[data-form-error]");
      if (buttons) buttons.hidden = false;
      form.addEventListener("click", function (e) {
        var btn = e.target.closest("[data-pin]");
        if (!btn) return;
        var now = smpte(player.video.currentTime, player.fps);
        player.video.pause();
        if (btn.dataset.pin === "here") { tcIn.value = now; tcOut.value = ""; text.focus(); }
        else if (btn.dataset.pin === "in") tcIn.value = now;
        else tcOut.value = now;
      });
      if (form.dataset.api && window.fetch) {
        form.addEventListener("submit", function (e) {
          e.preventDefault();
          postComment(form, player, list, { tcIn: tcIn, tcOut: tcOut, text: text, problem: problem });
        });
      }
    }
    return list;
  }

  function showProblem(el, message) {
    el.textContent = message;
    el.hidden = !message;
  }

  /* Post through the API so the video keeps its place; the new comment goes into the list
   * built with textContent only (what someone typed is never parsed as HTML). */
  function postComment(form, player, list, f) {
    var start = parseTimecode(f.tcIn.value, player.fps);
    var end = parseTimecode(f.tcOut.value, player.fps);
    if ((start !== null && isNaN(start)) || (end !== null && isNaN(end))) {
      showProblem(f.problem, form.dataset.lBadTime);
      return;
    }
    var button = form.querySelector("[data-action=comment]");
    button.disabled = true;
    fetch(form.dataset.api, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRFToken": form.querySelector("[name=csrfmiddlewaretoken]").value
      },
      body: JSON.stringify({ text: f.text.value, timecode: start, timecode_end: end })
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) { return { ok: r.ok, body: body }; });
    }).then(function (res) {
      button.disabled = false;
      if (!res.ok) {
        var b = res.body || {};
        var message = b.detail || (b.timecode && b.timecode[0]) || (b.timecode_end && b.timecode_end[0]) ||
          (b.text && b.text[0]) || form.dataset.lFailed;
        showProblem(f.problem, String(message));
        return;
      }
      showProblem(f.problem, "");
      insertComment(form, player, list, res.body);
      f.text.value = "";
      f.tcOut.value = "";
    }).catch(function () {
      button.disabled = false;
      showProblem(f.problem, form.dataset.lFailed);
    });
  }

  function insertComment(form, player, list, c) {
    var template = document.getElementById("comment-template");
    var li = template.content.firstElementChild.cloneNode(true);
    li.id = "comment-" + c.id;
    var tc = li.querySelector(".tc");
    if (c.timecode !== null && c.timecode !== undefined) {
      li.dataset.timecode = String(c.timecode);
      tc.dataset.seek = String(c.timecode);
      tc.href = "?t=" + c.timecode.toFixed(3);
      tc.textContent = smpte(c.timecode, player.fps) +
        (c.timecode_end !== null && c.timecode_end !== undefined ? "–" + smpte(c.timecode_end, player.fps) : "");
      if (c.timecode_end !== null && c.timecode_end !== undefined) li.dataset.timecodeEnd = String(c.timecode_end);
    } else {
      tc.remove();
    }
    li.querySelector(".author").textContent = (c.author && c.author.name) || "";
    var time = li.querySelector("time");
    time.dateTime = c.created_at;
    time.textContent = form.dataset.lJustNow;
    li.querySelector(".comment-text").textContent = c.text;
    li.querySelector("input[name=parent]").value = String(c.id);
    var resolve = li.querySelector("[data-resolve-form]");
    resolve.action = resolve.getAttribute("action").replace("/0/", "/" + c.id + "/");
    var empty = list.querySelector(".empty");
    if (empty) empty.remove();
    var before = null;
    var items = list.querySelectorAll(":scope > li.comment");
    for (var i = 0; i < items.length; i++) {
      var other = items[i].dataset.timecode;
      var mine = li.dataset.timecode;
      if (mine !== undefined && (other === undefined || parseFloat(other) > parseFloat(mine))) { before = items[i]; break; }
    }
    list.insertBefore(li, before);
    var count = document.querySelector("[data-comment-count]");
    if (count) count.textContent = String(list.querySelectorAll(":scope > li.comment").length);
    list.dispatchEvent(new CustomEvent("kadr:comments-changed"));
    li.classList.add("just-added");
    li.scrollIntoView({ block: "nearest" });
  }

  /* --- Compare: two players in step ---------------------------------------------- */

  function wireCompare(box, players) {
    var controls = document.querySelector("[data-compare-controls]");
    if (players.length !== 2 || !controls) return;
    var a = players[0], b = players[1], lock = controls.querySelector("[data-sync=lock]");
    controls.hidden = false;
    b.video.muted = true;
    var syncing = false;
    function follow(from, to) {
      if (!lock.checked || syncing) return;
      syncing = true;
      if (Math.abs(to.video.currentTime - from.video.currentTime) > 1 / from.fps) {
        to.video.currentTime = from.video.currentTime;
      }
      syncing = false;
    }
    [[a, b], [b, a]].forEach(function (pair) {
      var from = pair[0], to = pair[1];
      from.video.addEventListener("seeked", function () { follow(from, to); });
      from.video.addEventListener("play", function () { if (lock.checked && to.video.paused) to.video.play().catch(function () {}); });
      from.video.addEventListener("pause", function () {
        if (!lock.checked) return;
        if (!to.video.paused) to.video.pause();
        to.video.currentTime = from.video.currentTime;  // stop on the same frame
      });
      from.video.addEventListener("ratechange", function () { if (lock.checked) to.video.playbackRate = from.video.playbackRate; });
    });
    // Drift correction while both play: the left cut leads.
    a.video.addEventListener("timeupdate", function () {
      if (lock.checked && !a.video.paused && Math.abs(b.video.currentTime - a.video.currentTime) > 0.15) {
        b.video.currentTime = a.video.currentTime;
      }
    });
    controls.querySelector("[data-sync=play]").addEventListener("click", function () {
      b.video.currentTime = a.video.currentTime;
      a.video.play().catch(function () {});
      b.video.play().catch(function () {});
    });
    controls.querySelector("[data-sync=pause]").addEventListener("click", function () {
      a.video.pause();
      b.video.pause();
      b.video.currentTime = a.video.currentTime;
    });
  }

  function init() {
    var players = Array.prototype.map.call(document.querySelectorAll("[data-player]"), function (el) {
      var p = new Player(el);
      el.kadrPlayer = p;
      return p;
    });
    window.kadrPlayers = players;
    var compareBox = document.querySelector("[data-compare]");
    if (compareBox) { wireCompare(compareBox, players); return; }
    if (players.length) {
      wireComments(players[0]);
      // Keys work anywhere on the page except while typing.
      document.addEventListener("keydown", function (e) {
        if (e.defaultPrevented || isTyping(e.target) || players[0].root.contains(e.target)) return;
        if (e.target.tagName === "BUTTON" && (e.key === " " || e.key === "Enter")) return;
        if (players[0].handleKey(e)) e.preventDefault();
      });
    }
  }

  window.KadrTimecode = { smpte: smpte };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();

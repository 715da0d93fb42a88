/* Kadr's resumable uploader (templates/media_pipeline/_uploader.html).

   Protocol (README "Uploads", /api/v1/docs/): POST media/uploads/ opens an upload and
   says its mode. "chunks": PATCH raw chunks with an Upload-Offset header; the server
   answers 409 with the offset to resume from when we are out of step. "s3": ask
   .../parts/N/ for a presigned URL, PUT the part straight to the bucket, then POST
   .../complete/. Upload ids are remembered in localStorage by file fingerprint, so
   after a reload choosing the same file again continues where it stopped. */
(function () {
  "use strict";

  var STORE_KEY = "kadr.uploads.v1";
  var MAX_BACKOFF = 30000;

  function loadStore() {
    try { return JSON.parse(window.localStorage.getItem(STORE_KEY) || "{}"); } catch (e) { return {}; }
  }
  function saveStore(store) {
    try { window.localStorage.setItem(STORE_KEY, JSON.stringify(store)); } catch (e) { /* private mode */ }
  }
  function remember(fp, entry) { var s = loadStore(); s[fp] = entry; saveStore(s); }
  function forget(fp) { var s = loadStore(); delete s[fp]; saveStore(s); }

  function formatBytes(n) {
    var units = ["B", "KB", "MB", "GB", "TB"], i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(n < 10 ? 1 : 0) : n) + "\u00a0" + units[i];
  }
  function formatTime(s) {
    if (!isFinite(s) || s < 0) return "";
    s = Math.round(s);
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    if (h) return h + ":" + String(m).padStart(2, "0") + ":" + String(sec).padStart(2, "0");
    return m + ":" + String(sec).padStart(2, "0");
  }
  function sleep(ms) { return new Promise(function (r) { window.setTimeout(r, ms); }); }

  function Widget(root) {
    this.root = root;
    this.endpoint = root.dataset.endpoint;
    this.purpose = root.dataset.purpose || "review";
    this.target = {};
    if (root.dataset.targetName && root.dataset.targetId) {
      this.target[root.dataset.targetName] = Number(root.dataset.targetId);
    }
    this.chunkSize = Number(root.dataset.chunkSize || 0);
    this.csrf = root.dataset.csrf;
    this.list = root.querySelector(".kadr-uploads");
    this.t = function (key) { return root.dataset["t" + key.charAt(0).toUpperCase() + key.slice(1)] || key; };
    this.bind();
    this.showInterrupted();
  }

  Widget.prototype.scope = function () {
    return this.purpose + ":" + JSON.stringify(this.target);
  };

  Widget.prototype.bind = function () {
    var self = this;
    var input = this.root.querySelector(".kadr-file-input");
    input.addEventListener("change", function () {
      self.addFiles(input.files);
      input.value = "";
    });
    var drop = this.root.querySelector(".kadr-drop");
    ["dragenter", "dragover"].forEach(function (name) {
      drop.addEventListener(name, function (e) { e.preventDefault(); drop.classList.add("is-over"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      drop.addEventListener(name, function (e) { e.preventDefault(); drop.classList.remove("is-over"); });
    });
    drop.addEventListener("drop", function (e) {
      if (e.dataTransfer && e.dataTransfer.files) self.addFiles(e.dataTransfer.files);
    });
  };

  /* After a reload the browser no longer has the files: list what was interrupted here. */
  Widget.prototype.showInterrupted = function () {
    var store = loadStore(), self = this;
    Object.keys(store).forEach(function (fp) {
      var entry = store[fp];
      if (entry.scope !== self.scope()) return;
      var row = self.makeRow(entry.name, entry.size);
      row.el.classList.add("is-interrupted");
      row.el.dataset.fingerprint = fp;
      row.status.textContent = self.t("reselect");
      row.pause.hidden = true;
      // Cancel here gives the interrupted upload up: the server deletes what it received.
      row.cancel.addEventListener("click", function () {
        forget(fp);
        fetch(self.endpoint + entry.id + "/", {
          method: "DELETE", credentials: "same-origin", headers: { "X-CSRFToken": self.csrf }
        });
        row.el.remove();
      });
      fetch(self.endpoint + entry.id + "/", { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data || data.status !== "active") { forget(fp); row.el.remove(); return; }
          row.bar.value = data.offset;
          row.bar.max = data.size;
          row.bytes.textContent = formatBytes(data.offset) + " " + self.t("of") + " " + formatBytes(data.size);
        })
        .catch(function () {});
    });
  };

  Widget.prototype.makeRow = function (name, size) {
    var li = document.createElement("li");
    li.className = "kadr-upload";
    var title = document.createElement("strong");
    title.className = "kadr-upload-name";
    title.textContent = name; // textContent: a file name is never HTML
    var bar = document.createElement("progress");
    bar.max = size || 1;
    bar.value = 0;
    var bytes = document.createElement("span");
    bytes.className = "kadr-upload-bytes";
    var status = document.createElement("span");
    status.className = "kadr-upload-status";
    status.setAttribute("role", "status");
    var buttons = document.createElement("span");
    buttons.className = "kadr-upload-buttons";
    var pause = document.createElement("button");
    pause.type = "button";
    pause.className = "btn small ghost kadr-pause";
    pause.textContent = this.t("pause");
    var cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "btn small ghost kadr-cancel";
    cancel.textContent = this.t("cancel");
    buttons.append(pause, cancel);
    li.append(title, bar, bytes, status, buttons);
    this.list.append(li);
    return { el: li, bar: bar, bytes: bytes, status: status, buttons: buttons, pause: pause, cancel: cancel };
  };

  Widget.prototype.addFiles = function (files) {
    var self = this;
    Array.prototype.forEach.call(files, function (file) {
      var fp = [self.scope(), file.name, file.size, file.lastModified].join("|");
      var stale = self.list.querySelector('[data-fingerprint="' + CSS.escape(fp) + '"]');
      if (stale) stale.remove();
      new Transfer(self, file, fp).start();
    });
  };

  function Transfer(widget, file, fp) {
    this.w = widget;
    this.file = file;
    this.fp = fp;
    this.paused = false;
    this.cancelled = false;
    this.xhr = null;
    this.row = widget.makeRow(file.name, file.size);
    this.row.el.dataset.fingerprint = fp;
    this.samples = [];
    var self = this;
    this.row.pause.addEventListener("click", function () { self.togglePause(); });
    this.row.cancel.addEventListener("click", function () { self.cancel(); });
  }

  Transfer.prototype.api = function (method, url, body, headers) {
    var init = { method: method, credentials: "same-origin", headers: Object.assign({ "X-CSRFToken": this.w.csrf }, headers || {}) };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers["Content-Type"] = "application/json";
    }
    return fetch(url, init).then(function (r) {
      return r.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        return { status: r.status, ok: r.ok, data: data };
      });
    });
  };

  Transfer.prototype.setStatus = function (key, extra) {
    this.row.status.textContent = this.w.t(key) + (extra ? " — " + extra : "");
    this.row.el.dataset.state = key;
  };

  Transfer.prototype.progress = function (sent) {
    var now = Date.now();
    this.samples.push([now, sent]);
    while (this.samples.length > 2 && now - this.samples[0][0] > 5000) this.samples.shift();
    var first = this.samples[0];
    var speed = now > first[0] ? (sent - first[1]) / ((now - first[0]) / 1000) : 0;
    this.row.bar.value = sent;
    var text = formatBytes(sent) + " " + this.w.t("of") + " " + formatBytes(this.file.size);
    if (speed > 0 && sent < this.file.size) {
      text += " · " + formatBytes(speed) + "/s · " + formatTime((this.file.size - sent) / speed) + " " + this.w.t("left");
    }
    this.row.bytes.textContent = text;
  };

  Transfer.prototype.start = function () {
    var self = this;
    this.setStatus("waiting");
    this.open()
      .then(function () { return self.run(); })
      .catch(function (err) { self.fail(err); });
  };

  /* Find this file's upload on the server (after a reload) or open a new one. */
  Transfer.prototype.open = function () {
    var self = this, known = loadStore()[this.fp];
    var lookup = known ? this.api("GET", this.w.endpoint + known.id + "/") : Promise.resolve(null);
    return lookup.then(function (res) {
      if (res && res.ok && res.data && res.data.status !== "aborted") {
        self.upload = res.data;
        return;
      }
      var body = { filename: self.file.name, size: self.file.size, purpose: self.w.purpose, target: self.w.target };
      if (self.file.type) body.content_type = self.file.type;
      return self.api("POST", self.w.endpoint, body).then(function (created) {
        if (!created.ok) throw new Error((created.data && created.data.detail) || ("HTTP " + created.status));
        self.upload = created.data;
        remember(self.fp, { id: created.data.id, name: self.file.name, size: self.file.size, scope: self.w.scope() });
      });
    });
  };

  Transfer.prototype.url = function (suffix) {
    return this.w.endpoint + this.upload.id + "/" + (suffix || "");
  };

  Transfer.prototype.run = function () {
    var self = this;
    if (this.upload.status === "complete") return this.finish(this.upload);
    this.setStatus("uploading");
    this.progress(this.upload.offset);
    var attempt = 0;
    var step = function () {
      if (self.cancelled || self.paused) return Promise.resolve();
      var send = self.upload.mode === "s3" ? self.sendPart() : self.sendChunk();
      return send.then(function (done) {
        attempt = 0;
        if (done) return self.finish(self.upload);
        return step();
      }, function (err) {
        if (self.cancelled || self.paused) return;
        if (err && err.fatal) throw err;
        // The connection dropped: wait, ask the server where we are, and go on.
        attempt += 1;
        self.setStatus("offline");
        var delay = Math.min(MAX_BACKOFF, 1000 * Math.pow(2, attempt - 1));
        return Promise.race([sleep(delay), new Promise(function (r) { window.addEventListener("online", r, { once: true }); })])
          .then(function () { return self.refresh(); })
          .then(function () { if (!self.paused) self.setStatus("uploading"); return step(); }, function () { return step(); });
      });
    };
    return step();
  };

  Transfer.prototype.refresh = function () {
    var self = this;
    return this.api("GET", this.url()).then(function (res) {
      if (!res.ok) throw new Error("HTTP " + res.status);
      self.upload = res.data;
      self.progress(self.upload.offset);
    });
  };

  /* XHR rather than fetch: it reports upload progress. Resolves {status, data}. */
  Transfer.prototype.xhrSend = function (method, url, blob, headers, base) {
    var self = this;
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      self.xhr = xhr;
      xhr.open(method, url);
      Object.keys(headers).forEach(function (k) { xhr.setRequestHeader(k, headers[k]); });
      xhr.upload.onprogress = function (e) { self.progress(base + e.loaded); };
      xhr.onload = function () {
        self.xhr = null;
        var data = null;
        try { data = xhr.responseText ? JSON.parse(xhr.responseText) : null; } catch (e) { data = null; }
        resolve({ status: xhr.status, data: data, etag: xhr.getResponseHeader("ETag") });
      };
      xhr.onerror = xhr.ontimeout = function () { self.xhr = null; reject(new Error("network")); };
      xhr.onabort = function () { self.xhr = null; reject(new Error("aborted")); };
      xhr.send(blob);
    });
  };

  Transfer.prototype.sendChunk = function () {
    var self = this, up = this.upload;
    var size = this.w.chunkSize || up.chunk_size || 32 * 1024 * 1024;
    var end = Math.min(up.offset + size, up.size);
    var headers = { "Upload-Offset": String(up.offset), "Content-Type": "application/offset+octet-stream", "X-CSRFToken": this.w.csrf };
    return this.xhrSend("PATCH", this.url(), this.file.slice(up.offset, end), headers, up.offset).then(function (res) {
      if (res.status === 200 && res.data) {
        self.upload = res.data;
        self.progress(res.data.offset);
        return res.data.status === "complete";
      }
      if (res.status === 409 && res.data && typeof res.data.offset === "number") {
        self.upload.offset = res.data.offset; // out of step: resume where the server is
        if (res.data.status === "complete") return self.refresh().then(function () { return true; });
        return false;
      }
      if (res.status >= 500 || res.status === 0) throw new Error("HTTP " + res.status);
      var err = new Error((res.data && res.data.detail) || ("HTTP " + res.status));
      err.fatal = true;
      throw err;
    });
  };

  Transfer.prototype.sendPart = function () {
    var self = this, up = this.upload;
    var have = {};
    (up.parts || []).forEach(function (p) { have[p.number] = true; });
    var number = 1;
    while (have[number] && number <= up.part_count) number++;
    if (number > up.part_count) {
      this.setStatus("checking");
      return this.api("POST", this.url("complete/")).then(function (res) {
        if (res.ok) { self.upload = res.data; return true; }
        if (res.status === 409) return self.refresh().then(function () { return false; });
        var err = new Error((res.data && res.data.detail) || ("HTTP " + res.status));
        err.fatal = res.status < 500;
        throw err;
      });
    }
    return this.api("POST", this.url("parts/" + number + "/")).then(function (signed) {
      if (!signed.ok) {
        var err = new Error((signed.data && signed.data.detail) || ("HTTP " + signed.status));
        err.fatal = signed.status < 500;
        throw err;
      }
      var part = signed.data, doneBytes = 0;
      (up.parts || []).forEach(function (p) { doneBytes += p.size; });
      return self.xhrSend("PUT", part.url, self.file.slice(part.start, part.end), {}, doneBytes).then(function (res) {
        if (res.status !== 200) throw new Error("HTTP " + res.status);
        up.parts = (up.parts || []).concat([{ number: number, size: part.end - part.start }]);
        up.offset = doneBytes + part.end - part.start;
        self.progress(up.offset);
        return false;
      });
    });
  };

  Transfer.prototype.finish = function (upload) {
    forget(this.fp);
    this.row.bar.value = this.row.bar.max;
    this.progress(this.file.size);
    this.row.buttons.hidden = true;
    var result = upload.result || {};
    var note = result.detail || result.attach_error || "";
    this.setStatus("done", note);
    this.row.el.classList.add("is-done");
    this.w.root.dispatchEvent(new CustomEvent("kadr:uploaded", {
      bubbles: true,
      detail: { upload: upload, asset: upload.asset, result: result }
    }));
  };

  Transfer.prototype.fail = function (err) {
    if (this.cancelled) return;
    this.setStatus("failed", err && err.message ? err.message : "");
    this.row.el.classList.add("is-failed");
    this.row.pause.hidden = true;
  };

  Transfer.prototype.togglePause = function () {
    var self = this;
    if (!this.paused) {
      this.paused = true;
      if (this.xhr) this.xhr.abort();
      this.setStatus("paused");
      this.row.pause.textContent = this.w.t("resume");
      return;
    }
    this.paused = false;
    this.row.pause.textContent = this.w.t("pause");
    this.refresh().then(function () { return self.run(); }).catch(function (err) { self.fail(err); });
  };

  Transfer.prototype.cancel = function () {
    this.cancelled = true;
    if (this.xhr) this.xhr.abort();
    forget(this.fp);
    if (this.upload) this.api("DELETE", this.url());
    this.setStatus("cancelled");
    this.row.buttons.hidden = true;
    this.row.el.classList.add("is-cancelled");
  };

  function init() {
    document.querySelectorAll("[data-kadr-uploader]").forEach(function (root) {
      if (root.dataset.ready) return;
      root.dataset.ready = "1";
      new Widget(root);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();

/* The 12-lead ECG on a calibrated grid (25 mm/s, 10 mm/mV; 1 mm small squares, 5 mm large), drawn on a canvas
   from the recording's int16 samples (embedded in the page as base64, or fetched, as they are stored:
   little-endian, lead after lead) and its gain.
   Layouts: the standard 3 × 4 of 2.5 s with a 10 s rhythm strip of lead II, or the 12 leads of 10 s one under
   the other. Size: real millimetres (CSS mm) or fitted to the width of the screen (the grid scales with the
   waveform, so the squares still measure 0.04 s and 0.1 mV). Every row starts with a 1 mV calibration pulse.
   Plain JS, no framework; the page embeds the metadata with json_script. */
(function () {
  "use strict";
  var STANDARD = [["I", "aVR", "V1", "V4"], ["II", "aVL", "V2", "V5"], ["III", "aVF", "V3", "V6"]];
  var CAL_MM = 8;           // room for the calibration pulse at the start of a row
  var CSS_PX_PER_MM = 96 / 25.4;

  function littleEndian() {
    var b = new ArrayBuffer(2); new DataView(b).setInt16(0, 256, true);
    return new Int16Array(b)[0] === 256;
  }

  function toInt16(buffer) {
    if (littleEndian()) return new Int16Array(buffer);
    var view = new DataView(buffer), out = new Int16Array(buffer.byteLength / 2);
    for (var i = 0; i < out.length; i++) out[i] = view.getInt16(2 * i, true);
    return out;
  }

  function fromBase64(text) {  // the samples embedded in the page
    var bin = atob(text), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return bytes.buffer;
  }

  function median(arr, from, to) {
    var step = Math.max(1, Math.floor((to - from) / 400)), pick = [];
    for (var i = from; i < to; i += step) pick.push(arr[i]);
    pick.sort(function (a, b) { return a - b; });
    return pick.length ? pick[pick.length >> 1] : 0;
  }

  function Viewer(root, meta, samples) {
    this.root = root; this.meta = meta; this.samples = samples;
    this.speed = 25; this.gain = 10; this.layout = "standard"; this.fit = null;
    this.canvas = root.querySelector("canvas");
    this.box = root.querySelector(".ecg-canvas-box");
    this.leadIndex = {};
    for (var i = 0; i < meta.leads.length; i++) this.leadIndex[meta.leads[i]] = i;
    this.baseline = meta.leads.map(function (_l, k) { return median(samples, k * meta.n, (k + 1) * meta.n); });
  }

  Viewer.prototype.rows = function () {
    var seconds = this.meta.n / this.meta.rate;
    if (this.layout === "single") {
      return this.meta.leads.map(function (lead) { return [{ lead: lead, t0: 0, t1: seconds }]; });
    }
    var quarter = seconds / 4, rows = STANDARD.map(function (row) {
      return row.map(function (lead, c) { return { lead: lead, t0: c * quarter, t1: (c + 1) * quarter }; });
    });
    rows.push([{ lead: "II", t0: 0, t1: seconds, rhythm: true }]);
    return rows;
  };

  Viewer.prototype.draw = function () {
    var meta = this.meta, rows = this.rows(), seconds = meta.n / meta.rate;
    var rowMm = this.layout === "single" ? 4 * this.gain * 0.75 : 3 * this.gain;  // 30 mm rows at 10 mm/mV
    rowMm = Math.max(rowMm, 15);
    var widthMm = CAL_MM + seconds * this.speed + 2, heightMm = rows.length * rowMm + 4;
    var available = this.box.clientWidth || widthMm * CSS_PX_PER_MM;
    var fit = this.fit === null ? available < widthMm * CSS_PX_PER_MM : this.fit;
    var ppm = fit ? available / widthMm : CSS_PX_PER_MM;
    var dpr = window.devicePixelRatio || 1, cv = this.canvas;
    cv.style.width = Math.round(widthMm * ppm) + "px";
    cv.style.height = Math.round(heightMm * ppm) + "px";
    cv.width = Math.round(widthMm * ppm * dpr);
    cv.height = Math.round(heightMm * ppm * dpr);
    var ctx = cv.getContext("2d");
    ctx.setTransform(dpr * ppm, 0, 0, dpr * ppm, 0, 0);  // from here on, units are millimetres
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, widthMm, heightMm);
    this.grid(ctx, widthMm, heightMm, ppm);
    var mmPerUnit = this.gain * meta.uv / 1000, rate = meta.rate, speed = this.speed;
    ctx.lineJoin = "round"; ctx.lineCap = "round";
    for (var r = 0; r < rows.length; r++) {
      var mid = 2 + r * rowMm + rowMm * 0.6;
      this.pulse(ctx, mid);
      for (var s = 0; s < rows[r].length; s++) {
        var seg = rows[r][s], k = this.leadIndex[seg.lead];
        if (k === undefined) continue;
        var off = k * meta.n, base = this.baseline[k];
        var i0 = Math.floor(seg.t0 * rate), i1 = Math.min(meta.n, Math.ceil(seg.t1 * rate));
        ctx.beginPath();
        ctx.strokeStyle = "#111"; ctx.lineWidth = Math.max(0.2, 1.1 / ppm);
        for (var i = i0; i < i1; i++) {
          var x = CAL_MM + (i / rate) * speed, y = mid - (this.samples[off + i] - base) * mmPerUnit;
          if (i === i0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
        }
        ctx.stroke();
        ctx.fillStyle = "#0b3d91"; ctx.font = "bold 3.2px sans-serif";
        ctx.fillText(seg.lead, CAL_MM + seg.t0 * speed + 1, mid - rowMm * 0.42);
        if (s > 0) {  // the lead change marker
          ctx.beginPath(); ctx.strokeStyle = "#0b3d91"; ctx.lineWidth = 0.3;
          var xm = CAL_MM + seg.t0 * speed; ctx.moveTo(xm, mid - 3); ctx.lineTo(xm, mid + 3); ctx.stroke();
        }
      }
    }
    ctx.fillStyle = "#444"; ctx.font = "2.6px sans-serif";
    ctx.fillText(speed + " mm/s  " + this.gain + " mm/mV  " + meta.rate + " Hz", CAL_MM, heightMm - 0.8);
    this.root.setAttribute("data-drawn", String(rows.length));
    this.root.setAttribute("data-fit", fit ? "1" : "0");
    this.root.setAttribute("data-px-per-mm", ppm.toFixed(3));
  };

  Viewer.prototype.grid = function (ctx, w, h, ppm) {
    var x, y;
    if (ppm >= 2) {  // 1 mm squares only when they are at least 2 px apart
      ctx.beginPath(); ctx.strokeStyle = "#f6c9c9"; ctx.lineWidth = Math.max(0.05, 0.6 / ppm);
      for (x = 0; x <= w; x += 1) { ctx.moveTo(x, 0); ctx.lineTo(x, h); }
      for (y = 0; y <= h; y += 1) { ctx.moveTo(0, y); ctx.lineTo(w, y); }
      ctx.stroke();
    }
    ctx.beginPath(); ctx.strokeStyle = "#e88c8c"; ctx.lineWidth = Math.max(0.1, 1 / ppm);
    for (x = 0; x <= w; x += 5) { ctx.moveTo(x, 0); ctx.lineTo(x, h); }
    for (y = 0; y <= h; y += 5) { ctx.moveTo(0, y); ctx.lineTo(w, y); }
    ctx.stroke();
  };

  Viewer.prototype.pulse = function (ctx, mid) {  // 1 mV high, 0.2 s wide
    var h = this.gain, w = 0.2 * this.speed, x = 1.5;
    ctx.beginPath(); ctx.strokeStyle = "#111"; ctx.lineWidth = 0.25;
    ctx.moveTo(x - 1, mid); ctx.lineTo(x, mid); ctx.lineTo(x, mid - h); ctx.lineTo(x + w / 4, mid - h);
    ctx.lineTo(x + w / 4, mid); ctx.lineTo(x + w / 4 + 1, mid);
    ctx.stroke();
  };

  function controls(viewer) {
    viewer.root.querySelectorAll("[data-ecg-set]").forEach(function (el) {
      el.addEventListener("change", function () {
        var key = el.getAttribute("data-ecg-set"), v = el.value;
        if (key === "fit") viewer.fit = v === "auto" ? null : v === "fit";
        else if (key === "layout") viewer.layout = v;
        else viewer[key] = parseFloat(v);
        viewer.draw();
      });
    });
    var pending = null;
    window.addEventListener("resize", function () {
      if (pending) clearTimeout(pending);
      pending = setTimeout(function () { viewer.draw(); }, 150);
    });
  }

  function start(root) {
    var source = document.getElementById(root.getAttribute("data-ecg"));
    if (!source) return;
    var meta = JSON.parse(source.textContent);
    if (root.hasAttribute("data-layout")) meta.layout = root.getAttribute("data-layout");
    var got = meta.data ? Promise.resolve(fromBase64(meta.data)) :
      fetch(meta.samples_url, { credentials: "same-origin" }).then(function (resp) {
        if (!resp.ok) throw new Error(String(resp.status));
        return resp.arrayBuffer();
      });
    got.then(function (buffer) {
      var viewer = new Viewer(root, meta, toInt16(buffer));
      if (meta.layout) viewer.layout = meta.layout;
      controls(viewer);
      viewer.draw();
    }).catch(function () {
      root.setAttribute("data-error", "1");
      var msg = root.querySelector(".ecg-error");
      if (msg) msg.hidden = false;
    });
  }

  function init() { document.querySelectorAll("[data-ecg]").forEach(start); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();

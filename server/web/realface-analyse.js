/*
 * realface-analyse.js: the capture page's own look at the camera, before
 * and during a capture. It runs the library's first model, the BlazeFace
 * short-range detector (`blazeface_short.onnx`, the same file), in ONNX
 * Runtime Web's WebAssembly build, with the library's pre- and
 * post-processing (realface::face::detect: letterbox to 128x128 with
 * bilinear samples at pixel centres, values in [-1, 1]; anchors; sigmoid
 * scores at 0.5; weighted NMS at IoU 0.3). server/tests/web.rs checks that
 * its boxes match the library's on the same frames.
 *
 * What it decides is only ever the page's: whether the face is ready to be
 * prompted (found, one, centred in the oval, close enough, lit, still) and
 * which hint to show until it is; and, with the library's session compiled
 * to WebAssembly (loadSession), when to prompt and when an answer is done,
 * as a device's session does. The server judges the recording with its
 * own analysis and recomputes those prompts from its frames; nothing this
 * script says can make a capture pass.
 *
 * Served by realface-server (with onnxruntime-web and the model, checked
 * by sha256 at its start); no build step. Defines window.RealfaceAnalyse.
 */
(function (global) {
  'use strict';

  var SIZE = 128;
  var MIN_SCORE = 0.5;
  var NMS_IOU = 0.3;

  /** BlazeFace short range's 896 anchors, in the model's output order. */
  var ANCHORS = (function () {
    var strides = [8, 16, 16, 16];
    var out = [];
    var i = 0;
    while (i < strides.length) {
      var stride = strides[i];
      var repeats = 0;
      while (i < strides.length && strides[i] === stride) { repeats += 2; i++; }
      var fm = Math.ceil(SIZE / stride);
      for (var y = 0; y < fm; y++) {
        for (var x = 0; x < fm; x++) {
          for (var r = 0; r < repeats; r++) out.push([(x + 0.5) / fm, (y + 0.5) / fm]);
        }
      }
    }
    return out;
  })();

  /** The letterbox of a w x h frame into the model input (the library's). */
  function letterbox(w, h) {
    var m = Math.max(w, h);
    var s = m / SIZE;
    return { s: s, ox: 0.5 * s - 0.5 - (m - w) * 0.5, oy: 0.5 * s - 0.5 - (m - h) * 0.5 };
  }

  /** NHWC float input in [-1, 1] from RGBA pixels (bilinear, black outside). */
  function inputOf(rgba, w, h) {
    var map = letterbox(w, h);
    var out = new Float32Array(SIZE * SIZE * 3);
    var px = function (xi, yi, c) {
      if (xi < 0 || yi < 0 || xi >= w || yi >= h) return 0;
      return rgba[(yi * w + xi) * 4 + c];
    };
    var k = 0;
    for (var v = 0; v < SIZE; v++) {
      var y = map.s * v + map.oy;
      for (var u = 0; u < SIZE; u++) {
        var x = map.s * u + map.ox;
        if (!(x > -1 && y > -1 && x < w && y < h)) {
          out[k++] = -1; out[k++] = -1; out[k++] = -1;
          continue;
        }
        var x0 = Math.floor(x), y0 = Math.floor(y);
        var fx = x - x0, fy = y - y0;
        for (var c = 0; c < 3; c++) {
          var p00 = px(x0, y0, c), p10 = px(x0 + 1, y0, c);
          var p01 = px(x0, y0 + 1, c), p11 = px(x0 + 1, y0 + 1, c);
          var top = p00 + (p10 - p00) * fx;
          var bottom = p01 + (p11 - p01) * fx;
          out[k++] = (top + (bottom - top) * fy - 127.5) / 127.5;
        }
      }
    }
    return out;
  }

  function iou(a, b) {
    var x1 = Math.max(a.x, b.x), y1 = Math.max(a.y, b.y);
    var x2 = Math.min(a.x + a.w, b.x + b.w), y2 = Math.min(a.y + a.h, b.y + b.h);
    var inter = Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
    var union = a.w * a.h + b.w * b.h - inter;
    return union > 0 && isFinite(union) ? inter / union : 0;
  }

  /** Scores and regressors decoded against the anchors (normalised units). */
  function decode(scores, regs) {
    var out = [];
    for (var i = 0; i < ANCHORS.length && i < scores.length; i++) {
      var score = 1 / (1 + Math.exp(-Math.max(-100, Math.min(100, scores[i]))));
      if (!(score >= MIN_SCORE)) continue;
      var a = ANCHORS[i];
      var r = regs.subarray(i * 16, i * 16 + 16);
      var w = r[2] / SIZE, h = r[3] / SIZE;
      var cx = r[0] / SIZE + a[0], cy = r[1] / SIZE + a[1];
      var kps = [];
      for (var j = 0; j < 6; j++) kps.push([r[4 + 2 * j] / SIZE + a[0], r[5 + 2 * j] / SIZE + a[1]]);
      var d = { box: { x: cx - w / 2, y: cy - h / 2, w: w, h: h }, score: score, kps: kps };
      var finite = [d.box.x, d.box.y, d.box.w, d.box.h].every(isFinite) &&
        kps.every(function (p) { return isFinite(p[0]) && isFinite(p[1]); });
      if (finite) out.push(d);
    }
    return out;
  }

  /** The library's weighted NMS: clusters merged by score weight. */
  function weightedNms(dets) {
    dets.sort(function (a, b) { return b.score - a.score; });
    var out = [];
    var rest = dets;
    while (rest.length) {
      var best = rest[0];
      var cluster = rest.filter(function (d) { return d === best || iou(best.box, d.box) > NMS_IOU; });
      rest = rest.filter(function (d) { return cluster.indexOf(d) < 0; });
      var total = cluster.reduce(function (t, d) { return t + d.score; }, 0);
      if (!(total > 0)) { out.push(best); continue; }
      var m = { box: { x: 0, y: 0, w: 0, h: 0 }, score: best.score, kps: [[0, 0], [0, 0], [0, 0], [0, 0], [0, 0], [0, 0]] };
      cluster.forEach(function (d) {
        var wt = d.score / total;
        m.box.x += d.box.x * wt; m.box.y += d.box.y * wt;
        m.box.w += d.box.w * wt; m.box.h += d.box.h * wt;
        d.kps.forEach(function (k, j) { m.kps[j][0] += k[0] * wt; m.kps[j][1] += k[1] * wt; });
      });
      out.push(m);
    }
    return out;
  }

  /** Mean luma (0-255) of the box's middle, every 4th pixel. */
  function lumaIn(rgba, w, h, box) {
    var x0 = Math.max(0, Math.round(box.x + box.w * 0.2)), x1 = Math.min(w, Math.round(box.x + box.w * 0.8));
    var y0 = Math.max(0, Math.round(box.y + box.h * 0.2)), y1 = Math.min(h, Math.round(box.y + box.h * 0.8));
    var sum = 0, n = 0;
    for (var y = y0; y < y1; y += 4) {
      for (var x = x0; x < x1; x += 4) {
        var i = (y * w + x) * 4;
        sum += 0.299 * rgba[i] + 0.587 * rgba[i + 1] + 0.114 * rgba[i + 2];
        n++;
      }
    }
    return n ? sum / n : 0;
  }

  /** Loads a classic script once. */
  function script(src) {
    return new Promise(function (resolve, reject) {
      var s = document.createElement('script');
      s.src = src;
      s.onload = resolve;
      s.onerror = function () { reject(new Error('could not load ' + src)); };
      document.head.appendChild(s);
    });
  }

  /**
   * The detector in the page: `load(base, config)` with the server's base
   * URL and the config it put in realface-capture.js ({ort, mjs, wasm,
   * detector}: URLs below /sdk/v1/). Resolves with {detect(frame)}.
   */
  function load(base, config) {
    if (!config || !global.WebAssembly) return Promise.reject(new Error('no analysis'));
    var root = base + '/sdk/v1/';
    var ready = global.ort ? Promise.resolve() : script(root + config.ort);
    return ready.then(function () {
      var ort = global.ort;
      ort.env.logLevel = 'error';
      ort.env.wasm.numThreads = 1; // no SharedArrayBuffer: no COOP/COEP needed
      ort.env.wasm.proxy = false;
      ort.env.wasm.wasmPaths = { mjs: root + config.mjs, wasm: root + config.wasm };
      return ort.InferenceSession.create(root + config.detector, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
    }).then(function (session) {
      var canvas = document.createElement('canvas');
      var ctx = canvas.getContext('2d', { willReadFrequently: true });
      var ort = global.ort;

      /** Faces in RGBA pixels (w x h), best first, in pixels. */
      function detectPixels(rgba, w, h) {
        var input = new ort.Tensor('float32', inputOf(rgba, w, h), [1, SIZE, SIZE, 3]);
        var feeds = {};
        feeds[session.inputNames[0]] = input;
        return session.run(feeds).then(function (out) {
          var scores = [], regs = [];
          session.outputNames.forEach(function (name) {
            var t = out[name];
            (t.dims[t.dims.length - 1] === 1 ? scores : regs).push(t.data);
          });
          var cat = function (parts) {
            var n = parts.reduce(function (s, p) { return s + p.length; }, 0);
            var all = new Float32Array(n);
            var at = 0;
            parts.forEach(function (p) { all.set(p, at); at += p.length; });
            return all;
          };
          var map = letterbox(w, h);
          var toImage = function (p) {
            return [map.s * (p[0] * SIZE - 0.5) + map.ox, map.s * (p[1] * SIZE - 0.5) + map.oy];
          };
          return weightedNms(decode(cat(scores), cat(regs))).map(function (d) {
            var tl = toImage([d.box.x, d.box.y]);
            var br = toImage([d.box.x + d.box.w, d.box.y + d.box.h]);
            var box = { x: tl[0], y: tl[1], w: br[0] - tl[0], h: br[1] - tl[1] };
            return { box: box, score: d.score, keypoints: d.kps.map(toImage), luma: lumaIn(rgba, w, h, box) };
          });
        });
      }

      /** A video element's current frame as ImageData (null before it plays). */
      function grab(video) {
        var w = video.videoWidth, h = video.videoHeight;
        if (!w || !h) return null;
        if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
        ctx.drawImage(video, 0, 0, w, h);
        return ctx.getImageData(0, 0, w, h);
      }

      return {
        /** Faces in a video element's current frame, or in ImageData. */
        detect: function (frame) {
          var img = frame instanceof ImageData ? frame : grab(frame);
          if (!img) return Promise.resolve(null);
          return detectPixels(img.data, img.width, img.height);
        },
        grab: grab,
        /**
         * The library's session in the page (config.session: the module
         * and the mesh and eye-state models), or a rejection when it cannot
         * run here: the capture then prompts on the fixed schedule.
         */
        session: function () {
          if (!config.session) return Promise.reject(new Error('no session served'));
          return loadSession(root, config.session, detectPixels);
        }
      };
    });
  }

  var MESH_INPUT = 192, MESH_COORDS = 468 * 3, EYE = 24;

  /**
   * The library's verification session compiled to WebAssembly
   * (bindings/web, realface_web.wasm) with the models it asks for run here
   * in ONNX Runtime Web: per frame, the module says what it needs (the
   * detector's faces, the mesh on its crop, the eye-state model on its two
   * eye crops) and takes the outputs back, until the frame's progress: the
   * very prompts, answers and release cues a device's session gives.
   * tests/external.rs checks that exchange against the library's own
   * session; server/tests/web.rs runs it in Chromium.
   */
  function loadSession(root, cfg, detectPixels) {
    var ort = global.ort;
    var opts = { executionProviders: ['wasm'], graphOptimizationLevel: 'all' };
    var module = fetch(root + cfg.module, { credentials: 'omit' }).then(function (r) {
      if (!r.ok) throw new Error('the session module: HTTP ' + r.status);
      return r.arrayBuffer();
    }).then(function (bytes) { return WebAssembly.instantiate(bytes, {}); });
    return Promise.all([
      module,
      ort.InferenceSession.create(root + cfg.mesh, opts),
      ort.InferenceSession.create(root + cfg.eyes, opts)
    ]).then(function (parts) {
      var e = parts[0].instance.exports, mesh = parts[1], eyes = parts[2];
      var enc = new TextEncoder(), dec = new TextDecoder();
      var frameBuf = { ptr: 0, len: 0 };
      var mem = function () { return new Uint8Array(e.memory.buffer); };
      var out = function () { return dec.decode(mem().slice(e.rf_out_ptr(), e.rf_out_ptr() + e.rf_out_len())); };
      var tensor = function () {
        return new Float32Array(e.memory.buffer, e.rf_tensor_ptr(), e.rf_tensor_len()).slice();
      };
      /** Calls `fn(ptr, len)` with `bytes` copied into the module. */
      var withBytes = function (bytes, fn) {
        var p = e.rf_alloc(bytes.length);
        mem().set(bytes, p);
        try { return fn(p, bytes.length); } finally { e.rf_free(p, bytes.length); }
      };
      var run = function (session, data, dims) {
        var feeds = {};
        feeds[session.inputNames[0]] = new ort.Tensor('float32', data, dims);
        return session.run(feeds);
      };
      var eyeLogits = function (crop) {
        return run(eyes, crop, [1, 1, EYE, EYE]).then(function (o) { return o[eyes.outputNames[0]].data; });
      };

      /**
       * Answers the module's code until the frame is done: its progress,
       * with the detector's faces on it (`detections`, in pixels, as
       * detect gives them) for the page's own hints.
       */
      function step(code, rgba, w, h, seen) {
        if (code === 0) {
          var progress = JSON.parse(out());
          progress.detections = seen.faces;
          return Promise.resolve(progress);
        }
        if (code === 1) {
          return detectPixels(rgba, w, h).then(function (faces) {
            seen.faces = faces;
            var json = JSON.stringify(faces.map(function (f) {
              return { bbox: [f.box.x, f.box.y, f.box.w, f.box.h], score: f.score, kps: f.keypoints };
            }));
            return step(withBytes(enc.encode(json), e.rf_faces), rgba, w, h, seen);
          });
        }
        if (code === 2) {
          return run(mesh, tensor(), [1, MESH_INPUT, MESH_INPUT, 3]).then(function (o) {
            var coords = null, logit = NaN;
            mesh.outputNames.forEach(function (name) {
              var d = o[name].data;
              if (d.length === MESH_COORDS) coords = d; else logit = d[0];
            });
            if (!coords) throw new Error('the mesh gave no points');
            var bytes = new Uint8Array(coords.buffer, coords.byteOffset, coords.byteLength);
            var next = withBytes(bytes, function (p) { return e.rf_mesh(p, MESH_COORDS, logit); });
            return step(next, rgba, w, h, seen);
          });
        }
        if (code === 3) {
          var crops = tensor();
          return Promise.all([eyeLogits(crops.slice(0, EYE * EYE)), eyeLogits(crops.slice(EYE * EYE))]).then(function (l) {
            return step(e.rf_eyes(l[0][0], l[0][1], l[1][0], l[1][1]), rgba, w, h, seen);
          });
        }
        return Promise.reject(JSON.parse(out()));
      }

      return {
        /**
         * Starts the session of a started certifyId: `start` is the server's
         * answer to start ({certifyId, challengeNonce, sessionOptions}).
         * Returns null, or the error ({code, message}).
         */
        start: function (start) {
          var code = withBytes(enc.encode(JSON.stringify(start)), e.rf_start);
          return code === 0 ? null : JSON.parse(out());
        },
        /**
         * One frame (RGBA pixels, w x h) taken tMs after the recording
         * began: resolves with the session's progress (realface::Progress,
         * with `detections`: the detector's faces on the frame, or null),
         * rejects with {code, message} for a frame it refused.
         */
        frame: function (rgba, w, h, tMs) {
          var n = w * h * 4;
          if (frameBuf.len !== n) {
            if (frameBuf.len) e.rf_free(frameBuf.ptr, frameBuf.len);
            frameBuf = { ptr: e.rf_alloc(n), len: n };
          }
          mem().set(rgba, frameBuf.ptr);
          return step(e.rf_frame(frameBuf.ptr, n, w, h, tMs), rgba, w, h, { faces: null });
        }
      };
    });
  }

  /**
   * Whether the face is ready to be prompted, frame by frame. `stage` is
   * the shown stage's aspect (width / height; the video covers it) and the
   * oval's place in it ({cx, cy, rx, ry} as fractions of the stage).
   * `update(tMs, faces, w, h)` returns {ready, hint} where hint is a
   * prompt-table key (null when ready).
   */
  function Readiness(o) {
    var opts = Object.assign({
      aspect: 3 / 4, oval: { cx: 0.5, cy: 0.46, rx: 24 / 75, ry: 0.32 },
      // the face centre within this share of the oval's radii
      centred: 0.6,
      // the face box's height against the oval's: closer below, back above
      minSize: 0.4, maxSize: 1.1,
      // mean luma of the face's middle (0-255)
      minLuma: 45,
      // still: over the last stillMs, the centre moves less than
      // stillMove x the box height and the height changes less than stillSize
      stillMs: 600, stillMove: 0.06, stillSize: 0.08,
      // ready once every check held this long
      readyMs: 800,
      // during the capture (placement(..., true)) the bounds are looser: a
      // head that turns or nods as asked moves its box, and is not told off
      // for it; only a face outside the oval, far too small or too big is
      capture: { centred: 1.0, minSize: 0.3, maxSize: 1.3 }
    }, o || {});
    var history = [];
    var goodSince = null;
    /**
     * Where the face is: the hint of the first placement check that
     * fails (a face at all, one, close enough, not too close, centred in
     * the oval, lit), or null; `capturing` with the capture's looser
     * bounds (opts.capture).
     */
    function placement(faces, w, h, capturing) {
      var b = capturing ? opts.capture : opts;
      // the part of the frame the stage shows (object-fit: cover)
      var k = Math.max(opts.aspect / w, 1 / h);
      var vw = opts.aspect / k, vh = 1 / k;
      var ocx = w / 2, ocy = (h - vh) / 2 + opts.oval.cy * vh;
      var rx = opts.oval.rx * vw, ry = opts.oval.ry * vh;
      if (!faces || faces.length === 0) return 'face_in_circle';
      if (faces.length > 1) return 'hint.one_face';
      var f = faces[0];
      var dx = (f.box.x + f.box.w / 2 - ocx) / rx, dy = (f.box.y + f.box.h / 2 - ocy) / ry;
      var size = f.box.h / (2 * ry);
      if (size < b.minSize) return 'ready.closer';
      if (size > b.maxSize) return 'ready.back';
      if (Math.sqrt(dx * dx + dy * dy) > b.centred) return 'ready.centre';
      if (f.luma < opts.minLuma) return 'ready.light';
      return null;
    }
    return {
      options: opts,
      placement: placement,
      update: function (t, faces, w, h) {
        var hint = placement(faces, w, h);
        if (!faces || faces.length !== 1) {
          history = [];
        } else {
          // still: the one face's track over the last stillMs
          var f = faces[0];
          history.push({ t: t, cx: f.box.x + f.box.w / 2, cy: f.box.y + f.box.h / 2, h: f.box.h });
          history = history.filter(function (p) { return t - p.t <= opts.stillMs; });
          var span = function (key) {
            var v = history.map(function (p) { return p[key]; });
            return Math.max.apply(null, v) - Math.min.apply(null, v);
          };
          if (!hint && (Math.max(span('cx'), span('cy')) > opts.stillMove * f.box.h || span('h') > opts.stillSize * f.box.h)) hint = 'hold_still';
        }
        if (hint) {
          goodSince = null;
          return { ready: false, hint: hint };
        }
        if (goodSince === null) goodSince = t;
        return { ready: t - goodSince >= opts.readyMs, hint: null };
      }
    };
  }

  global.RealfaceAnalyse = { load: load, Readiness: Readiness, inputOf: inputOf, decode: decode, weightedNms: weightedNms };
})(window);

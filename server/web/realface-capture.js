/*
 * realface-capture.js: the browser side of a realface verification.
 *
 * A business page embeds it and calls
 *
 *   RealfaceCapture.start({ server, certifyId, deviceToken, container, ...options })
 *
 * with the certifyId and device token its backend got from
 * POST /v1/certify. It opens the front camera and, with the in-page
 * analysis (realface-analyse.js: the library's face detector in ONNX
 * Runtime Web), waits until one face is in the oval, close enough, lit and
 * still, with live hints until it is; a camera that shows no face is never
 * prompted (the capture ends NO_FACE_CAPTURED at the server). Then it asks
 * the server for the challenge and records while it prompts. With the
 * library's session in the page (realface_web.wasm: start with capture
 * "web", prompts "device") each prompt comes as on a device: a nonce-drawn
 * delay after the previous answer is seen, once the face is at rest, with
 * the release cue of a held answer. Without it (no WebAssembly, nothing
 * served, `prompting: "scheduled"`) the prompts come at offsets fixed from
 * the certifyId's nonce (prompts "scheduled"). While it records, the face's
 * place stays watched: a face that leaves the oval, a second face or too
 * little light gets a live hint above the prompt. It uploads
 * the recording as the evidence and shows the outcome of the server's verdict
 * (its client code) and, on a failure, the server's safe hint ("no face was
 * seen", "too dark", "your face left the oval", "no answer in time"...)
 * with "Try again" when the host page gives
 * `onRetry`: never a score or a reason. The server re-judges the recording against the
 * schedule it recomputes itself; nothing the page says about timing counts.
 *
 * No build step, no framework: a classic script that defines
 * window.RealfaceCapture. The device token is only ever sent in a header.
 */
(function (global) {
  'use strict';

  // The library's prompt table (realface::prompts: key, glyph, short
  // words and sentences in English and Simplified Chinese), filled in by
  // the server that serves this file.
  var TABLE = /*REALFACE_PROMPTS*/[]/*END_REALFACE_PROMPTS*/;

  // Where the in-page analysis comes from (onnxruntime-web and the
  // detector, URLs below /sdk/v1/), filled in by the server; null when the
  // server has none to serve, and the page then runs without analysis.
  var ANALYSIS = /*REALFACE_ANALYSIS*/null/*END_REALFACE_ANALYSIS*/;

  /** Whether a BCP 47 tag asks for Simplified Chinese. */
  function isZhHans(tag) {
    var t = String(tag || '').toLowerCase();
    return t === 'zh' || t.indexOf('zh-hans') === 0 || t === 'zh-cn' || t === 'zh-sg';
  }

  /** The table's entry for `key` (undefined when the table lacks it). */
  function entry(key) {
    return TABLE.filter(function (x) { return x.key === key; })[0];
  }

  /** The table's sentence for `key` in `lang`, without its glyph. */
  function plain(key, lang, fallback) {
    var e = entry(key);
    return e ? (isZhHans(lang) ? e.zhHans : e.en) : fallback;
  }

  /** The table's sentence for `key` in `lang`, with its glyph before it. */
  function said(key, lang, fallback) {
    var e = entry(key);
    return e ? (e.glyph ? e.glyph + '  ' : '') + plain(key, lang, fallback) : fallback;
  }

  /** "Step k of n" in `lang`. */
  function stepText(k, n, lang) {
    return plain('step', lang, '{k} / {n}').replace('{k}', String(k)).replace('{n}', String(n));
  }

  /** The action prompts in `lang`, keyed by action name. */
  function promptsIn(lang) {
    return {
      blink: said('action.blink', lang, 'Close your eyes for a second, then open them'),
      mouth_open: said('action.mouth_open', lang, 'Open your mouth wide'),
      turn_left: said('action.turn_left', lang, 'Turn your head to the left'),
      turn_right: said('action.turn_right', lang, 'Turn your head to the right'),
      nod: said('action.nod', lang, 'Nod: look down, then back up')
    };
  }

  // device mode: the recording goes on this long after the page's session
  // saw the last answer (ms), for the passive evidence of the last frames
  // and for the server, whose clock on the recording may run a frame or
  // two behind the page's
  var TAIL_MS = 1000;

  // a live hint during the capture shows once its cause has held this
  // long (ms): a face that dips out of the oval for a frame is not told off
  var LIVE_HINT_MS = 300;

  // the browser's language (a capture's own is its `lang` option, else this)
  var LANG = (global.navigator && global.navigator.language) || 'en';
  var PROMPTS = promptsIn(LANG);

  /** The options whose defaults are texts of the table, in `lang`. */
  function textsIn(lang) {
    return {
      title: plain('ui.title', lang, 'Face verification'),
      quitAlertTitle: plain('ui.quit_title', lang, 'Quit the verification?'),
      quitAlertMessage: plain('ui.quit_message', lang, 'Your verification is not finished.'),
      failAlertTitle: plain('ui.not_verified', lang, 'Not verified'),
      successText: plain('ui.verified', lang, 'Verified'),
      readyText: plain('face_in_circle', lang, 'Put your face inside the circle'),
      checkingText: plain('ui.checking', lang, 'Checking…'),
      closeText: plain('ui.close', lang, 'Close'),
      continueText: plain('ui.continue', lang, 'Continue'),
      quitText: plain('ui.quit', lang, 'Quit'),
      cancelledText: plain('ui.cancelled', lang, 'Verification cancelled'),
      timeoutAlertTitle: plain('ui.timeout_title', lang, 'Time is up'),
      timeoutAlertMessage: plain('ui.timeout_message', lang, 'The verification took too long. Please try again.'),
      failAlertMessage: plain('hint.try_again', lang, 'We could not verify you. Please try again.'),
      retryText: plain('retry', lang, 'Try again'),
      releaseText: said('release', lang, 'Relax'),
      holdText: said('hold_still', lang, 'Hold still')
    };
  }

  // the texts (title, alerts, buttons, outcome; from the table in the
  // browser's language) are defaults too: textsIn
  var DEFAULTS = Object.assign({
    server: '',
    progressBarColor: '#1677ff',
    progressBarBackgroundColor: '#dde3ea',
    activityIndicatorColor: '#1677ff',
    // the tone that tells closed eyes to open (WebAudio; muted by the
    // device's mute switch where the platform does that)
    sound: true,
    onRetry: null,
    // the language of the texts: a BCP 47 tag (en, zh-CN, ...); null for
    // the browser's
    lang: null,
    prompts: PROMPTS,
    // the in-page analysis (false: prompt at once, as without WebAssembly)
    analysis: true,
    // how prompts are timed: "device" (the library's session in the page
    // prompts as a device does, when it loads) or "scheduled" (the nonce's
    // fixed schedule, as without WebAssembly)
    prompting: 'device',
    // the face must pass every readiness check this long before the
    // recording and the prompts start (ms)
    readyMs: 800,
    // no face at all for this long: the capture ends NO_FACE_CAPTURED (ms)
    faceTimeoutMs: 10000,
    // a face seen but never ready for this long: it ends as timed out (ms)
    readyTimeoutMs: 30000,
    success: null,
    fail: null,
    complete: null
  }, textsIn(LANG));

  /** Messages for what stops a capture before it starts (stable codes). */
  var ERRORS = {
    insecure_context: 'The camera needs a secure page (https). Open this page over https.',
    no_camera: 'No camera was found. Connect a camera and try again.',
    camera_denied: 'Camera access was denied. Allow the camera for this site and try again.',
    camera_failed: 'The camera could not be started.',
    recorder_unsupported: 'This browser cannot record video. Try a current browser.',
    certify_expired: 'This verification link has expired. Start a new verification.',
    certify_unknown: 'This verification is not known. Start a new verification.',
    already_used: 'This verification was already used. Start a new verification.',
    network: 'The verification service could not be reached. Check your connection and try again.',
    interrupted: 'The verification was interrupted (the page was hidden). Please start again.',
    timeout: 'The verification took too long. Please start again.',
    server: 'The verification service refused the request.'
  };

  function el(tag, attrs, parent) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') {
        e.textContent = attrs[k];
      } else {
        e.setAttribute(k, attrs[k]);
      }
    });
    if (parent) parent.appendChild(e);
    return e;
  }

  function svg(tag, attrs, parent) {
    var e = document.createElementNS('http://www.w3.org/2000/svg', tag);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    parent.appendChild(e);
    return e;
  }

  function base(server) {
    return String(server || '').replace(/\/+$/, '');
  }

  /** The stylesheet next to this script (CSP-friendly: no inline style). */
  function addStyles(server) {
    var href = base(server) + '/sdk/v1/realface-capture.css';
    var links = document.querySelectorAll('link[data-realface]');
    if (links.length) return;
    el('link', { rel: 'stylesheet', href: href, 'data-realface': '1' }, document.head);
  }

  function View(container, o) {
    var reduced = global.matchMedia && global.matchMedia('(prefers-reduced-motion: reduce)').matches;
    container.textContent = '';
    var root = el('section', { class: 'rfc', 'data-state': 'idle', 'aria-label': o.title }, container);
    if (reduced) root.classList.add('rfc-reduced');
    el('h2', { class: 'rfc-title', text: o.title }, root);
    var stage = el('div', { class: 'rfc-stage' }, root);
    var video = el('video', { class: 'rfc-video', playsinline: '', muted: '', autoplay: '', 'aria-hidden': 'true' }, stage);
    video.muted = true;
    // a 3:4 overlay: the shade with an oval hole, the guide, and the ring
    // (the same oval drawn from its top, clockwise)
    var s = svg('svg', { class: 'rfc-overlay', viewBox: '0 0 75 100', 'aria-hidden': 'true' }, stage);
    var mask = svg('mask', { id: 'rfc-mask' }, s);
    svg('rect', { x: 0, y: 0, width: 75, height: 100, fill: 'white' }, mask);
    svg('ellipse', { cx: 37.5, cy: 46, rx: 24, ry: 32, fill: 'black' }, mask);
    svg('rect', { x: 0, y: 0, width: 75, height: 100, class: 'rfc-shade', mask: 'url(#rfc-mask)' }, s);
    var track = svg('ellipse', { cx: 37.5, cy: 46, rx: 26, ry: 34, fill: 'none', 'stroke-width': 2 }, s);
    track.style.stroke = o.progressBarBackgroundColor;
    var ring = svg('ellipse', { cx: 37.5, cy: 46, rx: 34, ry: 26, fill: 'none', 'stroke-width': 2, class: 'rfc-ring', pathLength: 100, transform: 'rotate(-90 37.5 46)' }, s);
    ring.style.stroke = o.progressBarColor;
    ring.style.strokeDasharray = '100';
    ring.style.strokeDashoffset = '100';
    var mark = el('div', { class: 'rfc-mark', 'aria-hidden': 'true' }, stage);
    var spinner = el('div', { class: 'rfc-spinner', 'aria-hidden': 'true' }, stage);
    spinner.style.borderTopColor = o.activityIndicatorColor;
    // the step and the prompt sit on the video, so they are in view
    // wherever the page is scrolled or however small the screen
    var step = el('p', { class: 'rfc-step', 'aria-live': 'polite' }, stage);
    var prompt = el('p', { class: 'rfc-prompt', role: 'status', 'aria-live': 'assertive', 'aria-atomic': 'true' }, stage);
    // what is wrong with the face's place during the capture, above the
    // prompt (which stays what the person is asked to do)
    var live = el('p', { class: 'rfc-live', 'aria-live': 'polite' }, stage);
    var quit = el('button', { type: 'button', class: 'rfc-quit', text: o.quitText + ' (Esc)' }, root);
    var dialog = el('div', { class: 'rfc-dialog', role: 'alertdialog', 'aria-modal': 'true', 'aria-labelledby': 'rfc-dialog-title', 'aria-describedby': 'rfc-dialog-message', hidden: '' }, root);
    var dTitle = el('h3', { id: 'rfc-dialog-title' }, dialog);
    var dMessage = el('p', { id: 'rfc-dialog-message' }, dialog);
    var dButtons = el('div', { class: 'rfc-buttons' }, dialog);

    return {
      root: root,
      video: video,
      reduced: reduced,
      quit: quit,
      state: function (state, text) {
        root.setAttribute('data-state', state);
        spinner.hidden = state !== 'uploading';
        mark.textContent = state === 'verified' ? '\u2713' : (state === 'failed' || state === 'error') ? '\u2715' : '';
        if (text !== undefined && prompt.textContent !== text) prompt.textContent = text;
      },
      action: function (name) {
        if (name) root.setAttribute('data-action', name); else root.removeAttribute('data-action');
      },
      ring: function (fraction) {
        var f = Math.max(0, Math.min(1, fraction));
        ring.style.strokeDashoffset = String(100 - 100 * f);
      },
      step: function (text) {
        step.textContent = text || '';
      },
      /** A live hint before the prompts (a prompt-table key). */
      hint: function (key, text) {
        root.setAttribute('data-live-hint', key || '');
        this.state('ready', text);
      },
      /** A live hint during the capture (a prompt-table key; '' for none). */
      capture: function (key, text) {
        root.setAttribute('data-capture-hint', key || '');
        if (live.textContent !== text) live.textContent = text;
      },
      dialog: function (title, message, buttons) {
        dTitle.textContent = title;
        dMessage.textContent = message;
        dButtons.textContent = '';
        buttons.forEach(function (b) {
          var btn = el('button', { type: 'button', class: b.class || '', text: b.text }, dButtons);
          btn.addEventListener('click', b.click);
        });
        dialog.hidden = false;
        var first = dButtons.querySelector('button');
        if (first) first.focus();
      },
      closeDialog: function () { dialog.hidden = true; },
      error: function (code, message) {
        root.setAttribute('data-error', code);
        this.state('error', message);
      }
    };
  }

  function pickType() {
    if (!global.MediaRecorder) return null;
    var types = ['video/webm;codecs=vp8', 'video/webm;codecs=vp9', 'video/webm', 'video/mp4'];
    for (var i = 0; i < types.length; i++) {
      if (!MediaRecorder.isTypeSupported || MediaRecorder.isTypeSupported(types[i])) return types[i];
    }
    return null;
  }

  function cameraError(e) {
    var name = e && e.name;
    if (name === 'NotAllowedError' || name === 'SecurityError' || name === 'PermissionDeniedError') return 'camera_denied';
    if (name === 'NotFoundError' || name === 'OverconstrainedError' || name === 'DevicesNotFoundError') return 'no_camera';
    return 'camera_failed';
  }

  /** The server's refusal as one of ERRORS' codes. */
  function serverError(body) {
    var cause = body && body.cause && body.cause.code;
    if (cause === 'certifyId.expired') return 'certify_expired';
    if (cause === 'certifyId.unknown' || cause === 'deviceToken.wrong' || cause === 'deviceToken.missing') return 'certify_unknown';
    if (cause === 'start.repeated' || cause === 'evidence.repeated') return 'already_used';
    return 'server';
  }

  function post(url, token, type, body) {
    var headers = { 'X-Realface-Device-Token': token };
    if (type) headers['Content-Type'] = type;
    return fetch(url, { method: 'POST', headers: headers, body: body, credentials: 'omit', cache: 'no-store' })
      .then(function (r) {
        return r.json().then(function (j) { return { ok: r.ok, body: j }; }, function () { return { ok: false, body: null }; });
      });
  }

  function start(options) {
    var o = {};
    Object.keys(DEFAULTS).forEach(function (k) { o[k] = DEFAULTS[k]; });
    Object.keys(options || {}).forEach(function (k) { o[k] = options[k]; });
    // the texts in the capture's language, where the host gave none
    var lang = o.lang || LANG;
    var texts = textsIn(lang);
    Object.keys(texts).forEach(function (k) { if (!options || options[k] === undefined) o[k] = texts[k]; });
    o.prompts = Object.assign({}, promptsIn(lang), (options && options.prompts) || {});
    var container = typeof o.container === 'string' ? document.querySelector(o.container) : o.container;
    if (!container) throw new Error('RealfaceCapture.start: container not found');
    if (!o.certifyId || !o.deviceToken) throw new Error('RealfaceCapture.start: certifyId and deviceToken are required');
    addStyles(o.server);
    var view = View(container, o);
    var api = base(o.server) + '/v1/certify/' + encodeURIComponent(o.certifyId);
    var stream = null;
    var recorder = null;
    var timers = [];
    var finished = false;
    var uploading = false;
    var resolveDone;
    // made while the user's gesture that started the capture (if any) is
    // still current, so that the tone may play later
    var Ctx = global.AudioContext || global.webkitAudioContext;
    var audio = null;
    if (o.sound && Ctx) { try { audio = new Ctx(); } catch (e) { audio = null; } }
    var done = new Promise(function (res) { resolveDone = res; });
    // what ran: the in-page analysis ("page") or none, and its frame rate
    var analysis = { analysis: 'none', mode: 'scheduled' };
    var analyser = null;
    var starting = null;

    function clearTimers() {
      timers.forEach(function (t) { clearTimeout(t); clearInterval(t); });
      timers = [];
    }

    function stopCamera() {
      if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
      stream = null;
    }

    function call(fn, arg) {
      if (typeof fn === 'function') {
        try { fn(arg); } catch (e) { if (global.console) console.error(e); }
      }
    }

    /** Ends the capture once: the callbacks and the returned promise. */
    function end(outcome) {
      if (finished) return;
      finished = true;
      clearTimers();
      document.removeEventListener('keydown', onKey);
      document.removeEventListener('visibilitychange', onHidden);
      if (recorder && recorder.state !== 'inactive') {
        recorder.ondataavailable = null;
        recorder.onstop = null;
        recorder.stop();
      }
      stopCamera();
      // a page that retries makes a new capture: this one's audio goes
      if (audio && audio.close) { try { audio.close(); } catch (e) { /* closed */ } }
      view.quit.hidden = true;
      outcome = Object.assign({}, analysis, outcome);
      call(outcome.authState === 'SUCCESS' ? o.success : o.fail, outcome);
      call(o.complete, outcome);
      resolveDone(outcome);
    }

    function fail(code, message, extra) {
      if (finished) return;
      view.error(code, message || ERRORS[code] || ERRORS.server);
      end(Object.assign({ certifyId: o.certifyId, authState: 'FAIL', error: code }, extra || {}));
    }

    function quit() {
      // once the recording is sent, the verdict is on its way
      if (finished || uploading) return;
      view.dialog(o.quitAlertTitle, o.quitAlertMessage, [
        { text: o.continueText, click: function () { view.closeDialog(); } },
        { text: o.quitText, class: 'rfc-danger', click: function () {
          view.closeDialog();
          view.state('quit', o.cancelledText);
          abandon('quit').then(null, function () {});
          end({ certifyId: o.certifyId, authState: 'FAIL', error: 'user_quit', clientCode: 10011 });
        } }
      ]);
    }

    function onKey(e) {
      if (e.key === 'Escape') quit();
    }
    // a hidden page cannot show its prompts on time: the capture stops
    function onHidden() {
      if (document.hidden && recorder && !uploading && !finished) fail('interrupted');
    }
    document.addEventListener('keydown', onKey);
    document.addEventListener('visibilitychange', onHidden);
    view.quit.addEventListener('click', quit);

    /**
     * Ends the certifyId at the server without a recording: no face was
     * ever seen ("no_face": NO_FACE_CAPTURED), one was seen but never
     * ready ("not_ready": TIMEOUT), or the person quit ("quit"). It can
     * only fail; the server records it for the business backend.
     */
    function abandon(why) {
      return startWeb().then(function (r) {
        if (!r.ok || !r.body || r.body.errCode !== 0) return r;
        return post(api + '/evidence', o.deviceToken, 'application/json', JSON.stringify({ abandoned: why }));
      });
    }

    /**
     * `start` as a web capture, called once (the answer is shared):
     * prompted by the page's session (`prompts` "device") or on the
     * nonce's fixed schedule (the default).
     */
    function startWeb(prompts) {
      if (!starting) {
        starting = post(api + '/start', o.deviceToken, 'application/json',
          JSON.stringify({ capture: 'web', prompts: prompts || 'scheduled' }));
      }
      return starting;
    }

    function verdict(r, hintOverride) {
      if (finished) return;
      if (!r.ok || !r.body || r.body.errCode !== 0) {
        if (r.body && r.body.cause && r.body.cause.code === 'evidence.late') {
          view.dialog(o.timeoutAlertTitle, o.timeoutAlertMessage, [{ text: o.closeText, click: function () { view.closeDialog(); } }]);
          return fail('timeout', o.timeoutAlertTitle, { errCode: r.body.errCode });
        }
        return fail(serverError(r.body), null, { errCode: r.body && r.body.errCode });
      }
      // client code 0: verified (the verdict itself, with its reasons and
      // scores, is the backend's to read)
      var ok = r.body.clientCode === 0;
      view.ring(1);
      view.step('');
      view.state(ok ? 'verified' : 'failed', ok ? o.successText : o.failAlertTitle);
      // the person sees verified or not, and on a failure only the server's
      // safe hint (no face seen, no answer in time, ...): never a score or
      // an attack's name; the reasons are the business backend's
      var hint = (!ok && hintOverride) || r.body.hint || null;
      if (!ok) {
        view.root.setAttribute('data-hint', hint || '');
        var buttons = [{ text: o.closeText, click: function () { view.closeDialog(); } }];
        if (typeof o.onRetry === 'function') {
          buttons.unshift({ text: o.retryText, class: 'rfc-retry', click: function () { view.closeDialog(); retry(); } });
        }
        view.dialog(o.failAlertTitle, hint ? plain(hint, lang, o.failAlertMessage) : o.failAlertMessage, buttons);
      }
      end({ certifyId: o.certifyId, authState: ok ? 'SUCCESS' : 'FAIL', clientCode: r.body.clientCode, hint: hint });
    }

    /**
     * Try again: the host page's `onRetry` gives a new certifyId (its
     * backend makes one; a used one never runs twice), and a new capture
     * starts in the same place with the same options.
     */
    function retry() {
      var next;
      try { next = o.onRetry(); } catch (e) { next = Promise.reject(e); }
      Promise.resolve(next).then(function (n) {
        if (!n || !n.certifyId || !n.deviceToken) throw new Error('onRetry gave no certifyId');
        var again = Object.assign({}, options || {}, { certifyId: n.certifyId, deviceToken: n.deviceToken, container: container });
        start(again);
      }).catch(function () {
        view.error('server', ERRORS.server);
      });
    }

    // the live hint during the capture (device and scheduled mode alike)
    var guide = { key: null, since: 0, shown: null };

    /**
     * During the capture: `key` is what the face's placement says at `t`
     * (ms; a prompt-table key, null when all is well). A hint shows once
     * it has held LIVE_HINT_MS and goes as soon as its cause does.
     */
    function guideCapture(t, key) {
      if (key !== guide.key) { guide.key = key; guide.since = t; }
      var show = key && t - guide.since >= LIVE_HINT_MS ? key : null;
      if (show !== guide.shown) {
        guide.shown = show;
        view.capture(show, show ? said(show, lang, '') : '');
      }
    }

    /**
     * Scheduled mode with the detector loaded: watches the face's place
     * (about 8 looks a second) for the live hints while the recording runs.
     */
    function watch(t0) {
      var placer = global.RealfaceAnalyse.Readiness({});
      function tick() {
        if (finished || uploading || !recorder || recorder.state === 'inactive') return;
        var began = performance.now();
        analyser.detect(view.video).then(function (faces) {
          if (finished || uploading) return;
          if (faces) guideCapture(performance.now() - t0, placer.placement(faces, view.video.videoWidth, view.video.videoHeight, true));
          timers.push(setTimeout(tick, Math.max(0, 125 - (performance.now() - began))));
        }, function () { /* no hints: the capture goes on */ });
      }
      tick();
    }

    /** A short tone (WebAudio): closed eyes may open now. */
    function tone() {
      if (!o.sound || !audio) return;
      try {
        if (audio.state === 'suspended' && audio.resume) audio.resume();
        var osc = audio.createOscillator();
        var gain = audio.createGain();
        osc.frequency.value = 880;
        gain.gain.setValueAtTime(0.0001, audio.currentTime);
        gain.gain.exponentialRampToValueAtTime(0.3, audio.currentTime + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.25);
        osc.connect(gain);
        gain.connect(audio.destination);
        osc.start();
        osc.stop(audio.currentTime + 0.3);
      } catch (e) { /* no sound: the prompt's text changes all the same */ }
    }

    function upload(chunks, type) {
      uploading = true;
      view.quit.hidden = true;
      view.action(null);
      view.capture('', '');
      view.state('uploading', o.checkingText);
      var blob = new Blob(chunks, { type: type.split(';')[0] });
      return post(api + '/evidence', o.deviceToken, type.split(';')[0], blob)
        .then(verdict, function () { fail('network'); });
    }

    /**
     * Records from the moment the camera gives frames: resolves with the
     * recorder's start time, the origin of the schedule's offsets (the
     * recording's first frame).
     */
    function record(type) {
      var chunks = [];
      recorder = new MediaRecorder(stream, { mimeType: type, videoBitsPerSecond: 2500000 });
      recorder.ondataavailable = function (e) { if (e.data && e.data.size) chunks.push(e.data); };
      recorder.onstop = function () { if (!finished) upload(chunks, recorder.mimeType || type); };
      return new Promise(function (resolve) {
        recorder.onstart = function () { resolve(performance.now()); };
        recorder.start(250);
      });
    }

    /** Shows the schedule's prompts on the recording's clock (from t0). */
    function prompt(schedule, t0) {
      var prompts = schedule.prompts;
      var answerWindow = schedule.reactionMaxMs + schedule.answerMs;
      var at = function (ms, fn) {
        timers.push(setTimeout(fn, Math.max(0, t0 + ms - performance.now())));
      };
      view.state('hold', o.holdText);
      view.step(stepText(1, prompts.length, lang));
      view.ring(0);
      prompts.forEach(function (p, i) {
        at(p.atMs, function () {
          view.action(p.action);
          view.step(stepText(i + 1, prompts.length, lang));
          view.state('prompt', o.prompts[p.action] || p.action);
        });
        if (p.action === 'blink') {
          // closed eyes cannot see the ring: a tone, a while after the
          // latest answer may have begun, says they may open again (the
          // closure it leaves is at least the 400 ms a blink answer needs)
          at(p.atMs + schedule.reactionMaxMs + 300, function () {
            tone();
            view.state('prompt', o.releaseText);
          });
        }
        at(p.atMs + answerWindow, function () {
          view.action(null);
          if (i + 1 < prompts.length) {
            view.step(stepText(i + 2, prompts.length, lang));
            view.state('hold', o.holdText);
          }
        });
      });
      // the ring is the answer window: it fills while a prompt may be
      // answered and is empty while the person holds still in between (no
      // countdown: a number reads as "do it for that many seconds")
      timers.push(setInterval(function () {
        var t = performance.now() - t0;
        var open = prompts.filter(function (p) { return p.atMs <= t && t < p.atMs + answerWindow; })[0];
        view.ring(open ? (view.reduced ? 1 : (t - open.atMs) / answerWindow) : 0);
      }, view.reduced ? 1000 : 100));
      at(schedule.endMs, function () {
        if (!finished && recorder.state !== 'inactive') recorder.stop();
      });
      if (analyser) watch(t0);
    }

    /**
     * The front camera (`facingMode: user`), but never an infrared one: a
     * laptop with a Windows Hello camera may offer its IR sensor as a front
     * camera; when the one given says IR and another exists, that one.
     */
    function openCamera() {
      var want = { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 30 } };
      var isIr = function (label) { return /(^|[^a-z])(ir|infrared)([^a-z]|$)/i.test(String(label || '')); };
      return navigator.mediaDevices.getUserMedia({ audio: false, video: Object.assign({ facingMode: 'user' }, want) })
        .then(function (s) {
          var track = s.getVideoTracks()[0];
          if (!track || !isIr(track.label) || !navigator.mediaDevices.enumerateDevices) return s;
          return navigator.mediaDevices.enumerateDevices().then(function (devices) {
            var other = devices.filter(function (d) { return d.kind === 'videoinput' && !isIr(d.label); })[0];
            if (!other) return s;
            s.getTracks().forEach(function (t) { t.stop(); });
            return navigator.mediaDevices.getUserMedia({ audio: false, video: Object.assign({ deviceId: { exact: other.deviceId } }, want) });
          });
        });
    }

    /** The in-page analysis, or null (no WebAssembly, nothing served, a load error). */
    function loadAnalysis() {
      if (!o.analysis || !ANALYSIS || !global.WebAssembly) return Promise.resolve(null);
      var b = base(o.server);
      var loaded = global.RealfaceAnalyse ? Promise.resolve() : new Promise(function (resolve, reject) {
        var s = el('script', { src: b + '/sdk/v1/realface-analyse.js' }, document.head);
        s.onload = resolve;
        s.onerror = reject;
      });
      return loaded.then(function () { return global.RealfaceAnalyse.load(b, ANALYSIS); })
        .then(null, function (e) {
          if (global.console) console.warn('realface: no in-page analysis', e && e.message);
          return null;
        });
    }

    /**
     * Watches the camera until the face is ready: resolves "ready",
     * "no_face" (none seen for faceTimeoutMs), "not_ready" (seen, never
     * ready within readyTimeoutMs) or "fallback" (the analysis failed).
     * Shows the live hint of the first check that fails.
     */
    function awaitReady(analyser) {
      var readiness = global.RealfaceAnalyse.Readiness({ readyMs: o.readyMs });
      var t0 = performance.now();
      var seen = false;
      var frames = 0;
      var lastHint = 'face_in_circle';
      view.hint(lastHint, said(lastHint, lang, o.readyText));
      return new Promise(function (resolve) {
        function tick() {
          if (finished) return;
          var began = performance.now();
          analyser.detect(view.video).then(function (faces) {
            if (finished) return;
            var now = performance.now();
            if (faces) {
              frames++;
              analysis.analysisFps = Math.round(10000 * frames / Math.max(1, now - t0)) / 10;
              view.root.setAttribute('data-analysis-fps', String(analysis.analysisFps));
              if (faces.length) seen = true;
              var s = readiness.update(now, faces, view.video.videoWidth, view.video.videoHeight);
              if (s.ready) return resolve('ready');
              if (s.hint && s.hint !== lastHint) {
                lastHint = s.hint;
                view.hint(s.hint, said(s.hint, lang, o.readyText));
              } else if (!s.hint && lastHint) {
                lastHint = null;
                view.hint('', said('hold_still', lang, o.holdText));
              }
            }
            if (!seen && now - t0 > o.faceTimeoutMs) return resolve('no_face');
            if (now - t0 > o.readyTimeoutMs) return resolve('not_ready');
            // at most ~30 analyses a second: the rest of the time is the page's
            timers.push(setTimeout(tick, Math.max(0, 33 - (now - began))));
          }, function () { resolve('fallback'); });
        }
        tick();
      });
    }

    /**
     * The challenge: start as a web capture, record, and prompt: by the
     * page's session when it loaded (device mode), else on the schedule.
     */
    function challenge(type, pageSession) {
      view.state('starting', o.readyText);
      return Promise.resolve(pageSession).then(function (ps) {
        if (finished) return;
        analysis.mode = ps ? 'device' : 'scheduled';
        view.root.setAttribute('data-mode', analysis.mode);
        // the recording and the challenge start together; the prompts count
        // from the recording's start
        return Promise.all([record(type), startWeb(analysis.mode)]).then(function (both) {
          if (finished) return;
          var r = both[1];
          var ok = r.ok && r.body && r.body.errCode === 0;
          if (ok && ps && r.body.prompts === 'device' && r.body.sessionOptions) {
            var err = ps.start({ certifyId: o.certifyId, challengeNonce: r.body.challengeNonce, sessionOptions: r.body.sessionOptions });
            // the server judges in device mode now: a session that cannot
            // start prompts nothing, and the recording goes up to fail there
            if (err) {
              if (global.console) console.warn('realface: the page session did not start', err.message);
              if (recorder.state !== 'inactive') recorder.stop();
              return;
            }
            return follow(ps, both[0]);
          }
          if (!ok || !r.body.schedule) {
            return fail(serverError(r.body), null, { errCode: r.body && r.body.errCode });
          }
          prompt(r.body.schedule, both[0]);
        });
      }).then(null, function () { fail('network'); });
    }

    /**
     * Device mode: the page's session (the library in WebAssembly) looks at
     * every frame it can (at most ~30 a second) on the recording's clock
     * and says what to show: "Hold still" until a prompt is due and the
     * face is at rest, the prompt, "Hold" and "Relax" around a held
     * answer's release cue (a tone for closed eyes), the next prompt a
     * nonce-drawn delay after the answer is seen. The recording stops
     * SCHEDULE_TAIL_MS after the last answer, or when the session ended
     * (the server judges the upload and recomputes all of it).
     */
    function follow(ps, t0) {
      var last = -1000, doneAt = null, toneFor = null, frames = 0;
      var placer = global.RealfaceAnalyse.Readiness({});
      var stop = function () { if (!finished && recorder.state !== 'inactive') recorder.stop(); };
      view.state('hold', o.holdText);
      view.ring(0);
      function show(p, t) {
        if (p.actions_total) view.step(stepText(Math.max(1, p.step), p.actions_total, lang));
        if (p.action) {
          view.action(p.action);
          view.state('prompt', p.prompt_key.indexOf('action.') === 0 ? (o.prompts[p.action] || said(p.prompt_key, lang, p.action)) : said(p.prompt_key, lang, o.releaseText));
        } else {
          view.action(null);
          view.state('hold', o.holdText);
        }
        var timer = p.timer;
        view.ring(timer ? (view.reduced ? 1 : (t - timer.from_ms) / Math.max(1, timer.to_ms - timer.from_ms)) : 0);
        if (timer && timer.kind === 'hold' && timer.sound && toneFor !== timer.to_ms) {
          // closed eyes cannot see the ring: the tone at the release cue
          toneFor = timer.to_ms;
          timers.push(setTimeout(function () {
            tone();
            if (view.root.getAttribute('data-state') === 'prompt') view.state('prompt', o.releaseText);
          }, Math.max(0, t0 + timer.to_ms - performance.now())));
        }
      }
      function tick() {
        if (finished || recorder.state === 'inactive') return;
        var began = performance.now();
        var t = Math.round(began - t0);
        var img = t - last >= 34 ? analyser.grab(view.video) : null;
        var next = function () { timers.push(setTimeout(tick, Math.max(0, 33 - (performance.now() - began)))); };
        if (!img) return next();
        ps.frame(img.data, img.width, img.height, t).then(function (p) {
          last = t;
          frames++;
          analysis.sessionFps = Math.round(10000 * frames / Math.max(1, t)) / 10;
          view.root.setAttribute('data-session-fps', String(analysis.sessionFps));
          if (finished) return;
          show(p, t);
          // the session's own detections say where the face is
          if (p.detections) guideCapture(t, placer.placement(p.detections, img.width, img.height, true));
          if (p.state === 'finished') return stop();
          if (p.actions_total && p.actions_done === p.actions_total) {
            if (doneAt === null) doneAt = t;
            if (t - doneAt >= TAIL_MS) return stop();
          }
          next();
        }, function (err) {
          // a refused frame (per-frame errors leave the session as it was)
          last = t;
          if (err && err.code && global.console) console.warn('realface: frame refused', err.code);
          if (err instanceof Error) return stop();
          next();
        });
      }
      tick();
    }

    (function begin() {
      view.state('camera', o.readyText);
      if (!global.isSecureContext) return fail('insecure_context');
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return fail('no_camera');
      var type = pickType();
      if (!type) return fail('recorder_unsupported');
      openCamera().then(function (s) {
        if (finished) { s.getTracks().forEach(function (t) { t.stop(); }); return; }
        stream = s;
        view.video.srcObject = s;
        var playing = view.video.play();
        if (playing && playing.catch) playing.catch(function () {});
        view.state('camera', o.readyText);
        var pageSession = null;
        return loadAnalysis().then(function (a) {
          if (finished) return null;
          if (!a) return 'fallback';
          analyser = a;
          analysis.analysis = 'page';
          view.root.setAttribute('data-analysis', 'page');
          // the session loads while the person gets ready; without it the
          // prompts come on the fixed schedule
          pageSession = o.prompting === 'scheduled' ? Promise.resolve(null) : a.session().then(null, function (e) {
            if (global.console) console.warn('realface: prompts on the fixed schedule', e && e.message);
            return null;
          });
          return awaitReady(a);
        }).then(function (outcome) {
          if (finished || !outcome) return;
          if (outcome === 'fallback') analysis.analysis = 'none';
          view.root.setAttribute('data-analysis', analysis.analysis);
          view.hint('', o.readyText);
          if (outcome === 'ready') return challenge(type, pageSession);
          if (outcome === 'fallback') return challenge(type, null);
          // nothing is recorded and nothing prompted: the server is told why
          view.state('uploading', o.checkingText);
          return abandon(outcome).then(function (r) {
            verdict(r, outcome === 'not_ready' ? 'hint.not_ready' : null);
          }, function () { fail('network'); });
        });
      }, function (e) { fail(cameraError(e)); });
    })();

    return {
      /** Resolves with {certifyId, authState, ...} when the capture ends. */
      done: done,
      /** Quits at once (as the user's quit, without the dialog). */
      cancel: function () {
        view.state('quit', o.cancelledText);
        end({ certifyId: o.certifyId, authState: 'FAIL', error: 'user_quit', clientCode: 10011 });
      }
    };
  }

  global.RealfaceCapture = {
    start: start, errors: ERRORS, prompts: PROMPTS, version: '1',
    // where the in-page analysis comes from (null: none); public URLs
    analysis: ANALYSIS
  };
})(window);

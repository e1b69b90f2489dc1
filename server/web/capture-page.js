/*
 * The hosted capture page (/capture/{appId}): reads the certifyId and the
 * device token from the URL's fragment (never sent to any server), clears
 * the fragment, and runs RealfaceCapture. The verdict is posted to the
 * framing page (if any) as {type: "realface", authState, certifyId}.
 */
(function () {
  'use strict';
  var params = new URLSearchParams(location.hash.replace(/^#/, ''));
  var certifyId = params.get('certifyId');
  var deviceToken = params.get('deviceToken');
  // the token leaves the address bar and the history
  history.replaceState(null, '', location.pathname + location.search);
  var container = document.getElementById('capture');
  if (!certifyId || !deviceToken) {
    container.textContent = 'Open this page with #certifyId=…&deviceToken=… from your service.';
    container.setAttribute('data-state', 'error');
    return;
  }
  var opts = { server: '', certifyId: certifyId, deviceToken: deviceToken, container: container };
  ['title', 'progressBarColor', 'progressBarBackgroundColor', 'activityIndicatorColor', 'prompting', 'lang'].forEach(function (k) {
    if (params.get(k)) opts[k] = params.get(k);
  });
  opts.complete = function (outcome) {
    if (window.parent !== window) {
      window.parent.postMessage({ type: 'realface', authState: outcome.authState, certifyId: outcome.certifyId, error: outcome.error || null }, '*');
    }
  };
  window.realfaceCapture = RealfaceCapture.start(opts);
})();

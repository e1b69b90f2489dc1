/*
 * The demo page: the server plays the business backend (POST /demo/certify
 * creates a certifyId for the picked photo with the demo app's key, which
 * stays on the server), then RealfaceCapture runs the capture, and the
 * backend's view of the verdict is shown below it.
 */
(function () {
  'use strict';
  var form = document.getElementById('demo-form');
  var status = document.getElementById('demo-status');
  /** A new certifyId for `photo` (base64) from the demo backend. */
  function certify(photo) {
    return fetch('/demo/certify', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ photo: photo }) })
      .then(function (r) { return r.json(); });
  }

  /** The backend's view of the verdict, below the capture. */
  function showBackend(id) {
    fetch('/demo/result/' + encodeURIComponent(id))
      .then(function (r) { return r.json(); })
      .then(function (v) {
        document.getElementById('backend').hidden = false;
        document.getElementById('backend-result').textContent = JSON.stringify(v, null, 2);
      });
  }

  function run(photo, c) {
    status.textContent = 'certifyId ' + c.certifyId;
    document.getElementById('backend').hidden = true;
    RealfaceCapture.start({
      server: '',
      certifyId: c.certifyId,
      deviceToken: c.deviceToken,
      container: '#capture',
      complete: function (outcome) { showBackend(outcome.certifyId); },
      // Try again: the backend makes a new certifyId for the same photo
      onRetry: function () {
        return certify(photo).then(function (n) {
          if (n.errCode !== 0) throw new Error(n.errMsg || String(n.errCode));
          status.textContent = 'certifyId ' + n.certifyId;
          document.getElementById('backend').hidden = true;
          return n;
        });
      }
    });
    document.getElementById('capture').scrollIntoView();
  }

  form.addEventListener('submit', function (e) {
    e.preventDefault();
    var file = document.getElementById('photo').files[0];
    if (!file) return;
    status.textContent = 'Creating a certifyId…';
    var reader = new FileReader();
    reader.onload = function () {
      var photo = String(reader.result).replace(/^data:[^,]*,/, '');
      certify(photo).then(function (c) {
        if (c.errCode !== 0) {
          status.textContent = 'The server refused the photo: ' + (c.errMsg || c.errCode);
          return;
        }
        // the form and the introduction leave the screen to the capture
        form.hidden = true;
        document.getElementById('intro').hidden = true;
        run(photo, c);
      }, function () { status.textContent = 'The server could not be reached.'; });
    };
    reader.readAsDataURL(file);
  });
})();

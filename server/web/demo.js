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
  form.addEventListener('submit', function (e) {
    e.preventDefault();
    var file = document.getElementById('photo').files[0];
    if (!file) return;
    status.textContent = 'Creating a certifyId…';
    var reader = new FileReader();
    reader.onload = function () {
      var photo = String(reader.result).replace(/^data:[^,]*,/, '');
      fetch('/demo/certify', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ photo: photo }) })
        .then(function (r) { return r.json(); })
        .then(function (c) {
          if (c.errCode !== 0) {
            status.textContent = 'The server refused the photo: ' + (c.errMsg || c.errCode);
            return;
          }
          status.textContent = 'certifyId ' + c.certifyId;
          form.hidden = true;
          RealfaceCapture.start({
            server: '',
            certifyId: c.certifyId,
            deviceToken: c.deviceToken,
            container: '#capture',
            complete: function () {
              fetch('/demo/result/' + encodeURIComponent(c.certifyId))
                .then(function (r) { return r.json(); })
                .then(function (v) {
                  document.getElementById('backend').hidden = false;
                  document.getElementById('backend-result').textContent = JSON.stringify(v, null, 2);
                });
            }
          });
        }, function () { status.textContent = 'The server could not be reached.'; });
    };
    reader.readAsDataURL(file);
  });
})();

// The trainer's check-in screen: fetch the current QR code every few seconds, so the
// code on the projector changes with every 30-second step.
(function () {
  "use strict";
  var screen = document.getElementById("checkin-screen");
  var qr = document.getElementById("qr");
  if (!screen || !qr) { return; }
  var code = document.getElementById("code");
  var count = document.getElementById("checked-in");
  var shown = "";
  var full = document.getElementById("fullscreen");
  if (full && document.fullscreenEnabled) {
    full.hidden = false;
    full.addEventListener("click", function () {
      if (document.fullscreenElement) { document.exitFullscreen(); }
      else { screen.requestFullscreen().catch(function () {}); }
    });
  }
  function refresh() {
    fetch(screen.dataset.tokenUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.json(); })
      .then(function (reply) {
        if (!reply || !reply.token) { return; }
        if (reply.token !== shown) {
          shown = reply.token;
          qr.innerHTML = reply.svg;
        }
        if (code && reply.code) { code.textContent = reply.code; }
        if (count) { count.textContent = reply.checked_in; }
      })
      .catch(function () {});
  }
  window.setInterval(refresh, 5000);
})();

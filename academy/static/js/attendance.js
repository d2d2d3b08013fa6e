// The session page: a heartbeat each minute while the page is open (online sessions,
// after "Join"), and the played ranges of the recording every 30 seconds.
(function () {
  "use strict";
  var page = document.getElementById("attend");
  if (!page) { return; }
  var csrf = page.dataset.csrf;
  var status = document.getElementById("presence-status");

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf},
      body: JSON.stringify(body || {})
    }).then(function (response) { return response.json(); });
  }

  // ---- live sessions ----
  var joinForm = document.getElementById("join-form");
  var beating = null;
  function beat() {
    post(page.dataset.heartbeatUrl).then(function (reply) {
      if (status && reply && reply.online_minutes !== undefined) {
        status.hidden = false;
        status.textContent = status.dataset.template
          ? status.dataset.template.replace("%s", reply.online_minutes)
          : reply.online_minutes + " min";
      }
    }).catch(function () { /* offline for a moment: the next beat will tell */ });
  }
  function startBeating() {
    if (beating) { return; }
    var seconds = parseInt(page.dataset.heartbeatSeconds, 10) || 60;
    beating = window.setInterval(beat, seconds * 1000);
  }
  if (joinForm) {
    // The form opens the meeting in a new tab and records the join; from then on
    // this page reports presence each minute while it stays open.
    joinForm.addEventListener("submit", startBeating);
    if (window.sessionStorage && sessionStorage.getItem("joined-" + page.dataset.heartbeatUrl)) {
      startBeating();
    }
    joinForm.addEventListener("submit", function () {
      if (window.sessionStorage) { sessionStorage.setItem("joined-" + page.dataset.heartbeatUrl, "1"); }
    });
  }

  // ---- recordings ----
  var video = document.getElementById("recording");
  if (video) {
    var bar = document.getElementById("watched");
    var share = document.getElementById("watched-share");
    var sent = "";
    function report() {
      if (!video.duration || !isFinite(video.duration)) { return; }
      var ranges = [];
      for (var i = 0; i < video.played.length; i++) {
        ranges.push([video.played.start(i), video.played.end(i)]);
      }
      var body = JSON.stringify(ranges);
      if (!ranges.length || body === sent) { return; }
      post(page.dataset.videoUrl, {ranges: ranges, duration: video.duration}).then(function (reply) {
        if (reply && reply.share !== undefined) {
          sent = body;
          var percent = Math.round(reply.share * 100);
          if (bar) { bar.value = percent; }
          if (share) { share.textContent = percent + "%"; }
        }
      }).catch(function () {});
    }
    window.setInterval(report, 30 * 1000);
    video.addEventListener("pause", report);
    video.addEventListener("ended", report);
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") { report(); }
    });
  }
})();

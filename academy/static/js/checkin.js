// The check-in page: a learner who arrived by scanning the QR code is checked in as the
// page opens (the form is posted once; without script the button does the same).
(function () {
  "use strict";
  var form = document.querySelector("form[data-auto-submit]");
  if (form && !form.dataset.sent) {
    form.dataset.sent = "1";
    form.submit();
  }
})();

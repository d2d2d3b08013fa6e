// On a phone the main menu folds behind one button, so the header takes one row.
// Without JavaScript the menu simply stays open.
(function () {
  "use strict";
  var toggle = document.getElementById("menu-toggle");
  var header = document.querySelector(".site-header");
  if (!toggle || !header) { return; }
  header.classList.add("has-menu-toggle");
  toggle.hidden = false;
  toggle.addEventListener("click", function () {
    var open = header.classList.toggle("menu-open");
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  });
})();

// Fills the header's "waiting for you" count once the page has loaded, so no page pays the
// queries it takes. (A file, not inline: the Content-Security-Policy refuses inline code.)
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var slot = document.querySelector("[data-waiting-count-url]");
    if (!slot) { return; }
    fetch(slot.getAttribute("data-waiting-count-url"), { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) { if (html) { slot.outerHTML = html; } })
      .catch(function () { /* the count is a convenience: the page works without it */ });
  });
})();

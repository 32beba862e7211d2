// Asks before a form with data-confirm is submitted. (Under the Content-Security-Policy
// pages carry no inline handlers: this file replaces onsubmit="return confirm(...)".)
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); }
  }, true);
})();

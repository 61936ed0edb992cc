/* A button with the attribute data-print prints the page (the briefing sheet).
 * A static script rather than an onclick attribute: the Content-Security-Policy runs no
 * inline event handler.
 */
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) { window.print(); }
  });
}());

/* Starts the vendored Swagger UI on /docs; the spec URL comes from the page (no inline script). */
(function () {
  "use strict";
  function start() {
    var el = document.getElementById("swagger-ui");
    if (!el || typeof SwaggerUIBundle === "undefined") return;
    SwaggerUIBundle({
      url: el.getAttribute("data-spec-url"),
      dom_id: "#swagger-ui",
      deepLinking: true,
      validatorUrl: null,
      persistAuthorization: false,
      tryItOutEnabled: false,
    });
  }
  if (document.readyState === "complete") start();
  else window.addEventListener("load", start);
})();

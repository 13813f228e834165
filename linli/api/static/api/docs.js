// Start Swagger UI on the API docs page. Settings come from the page (json_script);
// unsafe "try it out" requests carry the CSRF token so the workbench session is accepted.
(function () {
  "use strict";
  var settings = JSON.parse(document.getElementById("swagger-settings").textContent);
  var csrf = document.getElementById("csrf-token").getAttribute("data-token");
  settings.requestInterceptor = function (request) {
    var method = (request.method || "GET").toUpperCase();
    if (csrf && ["GET", "HEAD", "OPTIONS", "TRACE"].indexOf(method) === -1) {
      request.headers["X-CSRFToken"] = csrf;
    }
    return request;
  };
  settings.presets = [SwaggerUIBundle.presets.apis];
  settings.layout = "BaseLayout";
  window.ui = SwaggerUIBundle(settings);
})();

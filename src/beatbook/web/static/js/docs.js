// The API docs page: Swagger UI over the app's OpenAPI description (settings from data-).
(function () {
  var el = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({ url: el.dataset.openapiUrl, dom_id: "#swagger-ui", deepLinking: true });
})();

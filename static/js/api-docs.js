// Starts Swagger UI (served from static/vendor, like htmx) on /docs: a static script, since the
// site's CSP allows no inline script.
const node = document.getElementById("swagger-ui");
if (node && typeof SwaggerUIBundle === "function") {
  SwaggerUIBundle({ url: node.dataset.openapiUrl, domNode: node, deepLinking: true, tryItOutEnabled: true });
} else if (node) {
  node.textContent = "The API explorer did not load; the schema is still at /openapi.json.";
}

// API docs: Swagger UI for /openapi.json (local assets), authorized with the key kept at sign-in, if any.

import { storedKey } from "./api.js";

const ui = window.SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  onComplete: () => {
    const key = storedKey();
    if (key) ui.preauthorizeApiKey("bearerAuth", key);
    document.body.dataset.loaded = "true";
  },
});
window.ui = ui;

// Every call the UI makes to the JSON API goes through this module.
// Authentication: when the API gets keys, add the header in `authHeaders()` below — nothing else changes.

/** Headers added to every request (the one place for an API key / bearer token later). */
function authHeaders() {
  return {};
}

/** A refused request: HTTP status, the API's overall `message` and its per-field `errors` (json location). */
export class ApiError extends Error {
  constructor(status, message, errors) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.errors = errors || null;
  }
}

async function request(method, path, { body, query } = {}) {
  let url = path;
  if (query) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
    }
    const text = params.toString();
    if (text) url += (url.includes("?") ? "&" : "?") + text;
  }
  const headers = { Accept: "application/json", ...authHeaders() };
  const init = { method, headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (err) {
    throw new ApiError(0, `The service is unreachable (${err.message}).`);
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const message = (data && data.message) || `${response.status} ${response.statusText}`;
    const errors = data && data.errors ? data.errors.json || data.errors.query || data.errors : null;
    throw new ApiError(response.status, message, errors);
  }
  return data;
}

const enc = encodeURIComponent;

export const api = {
  // wallets and models
  wallets: () => request("GET", "/api/wallets"),
  createWallet: (body) => request("POST", "/api/wallets", { body }),
  models: () => request("GET", "/api/models"),

  // workflows
  workflows: (type) => request("GET", "/api/buy/workflows", { query: { type } }),
  workflow: (id) => request("GET", `/api/buy/workflows/${enc(id)}`),
  createWorkflow: (body) => request("POST", "/api/buy/workflows", { body }),
  updateWorkflow: (id, body) => request("PATCH", `/api/buy/workflows/${enc(id)}`, { body }),
  deleteWorkflow: (id) => request("DELETE", `/api/buy/workflows/${enc(id)}`),
  toggleWorkflow: (id, active) =>
    request("PATCH", `/api/buy/workflows/${enc(id)}/toggle`, { query: { active: active ? "true" : "false" } }),
  cloneWorkflow: (id) => request("POST", `/api/buy/workflows/${enc(id)}/clone`, { body: {} }),
  stats: () => request("GET", "/api/buy/workflows/stats"),
  recentExecutions: (limit = 20) => request("GET", "/api/buy/workflows/executions/recent", { query: { limit } }),

  // positions
  positions: (status, walletAlias) =>
    request("GET", "/api/positions", { query: { status, wallet_alias: walletAlias } }),
  position: (id) => request("GET", `/api/positions/${enc(id)}`),
  sellPosition: (id, pct) => request("POST", `/api/positions/${enc(id)}/sell`, { body: { pct } }),
  coinMetrics: (mint, query) => request("GET", `/api/coins/${enc(mint)}/metrics`, { query }),
};

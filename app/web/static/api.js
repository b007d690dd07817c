// Every call the UI makes to the JSON API goes through this module.
// Authentication: the API key given at sign-in is kept in sessionStorage (this tab, until it closes or the user
// signs out) and sent as `Authorization: Bearer <key>` by `authHeaders()`. A 401 forgets it and goes to /signin.

const KEY_ITEM = "tw.apiKey";
const SIGN_IN_PATH = "/signin";

/** The API key kept at sign-in (null when signed out). */
export function storedKey() {
  try {
    return sessionStorage.getItem(KEY_ITEM);
  } catch {
    return null;
  }
}

/** Keep the key for this browser tab's session. */
export function rememberKey(key) {
  sessionStorage.setItem(KEY_ITEM, key);
}

/** Forget the key (sign-out, or the API refused it). */
export function forgetKey() {
  sessionStorage.removeItem(KEY_ITEM);
}

/** Headers added to every request: the API key kept at sign-in. */
function authHeaders() {
  const key = storedKey();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

/** The sign-in page, told to come back here afterwards (and why, when the key was refused). */
export function signInUrl(reason) {
  const params = new URLSearchParams({ next: location.pathname + location.search + location.hash });
  if (reason) params.set("reason", reason);
  return `${SIGN_IN_PATH}?${params}`;
}

/** Leave for the sign-in page; the returned promise never settles, so the page shows no half-loaded error. */
function toSignIn(reason) {
  forgetKey();
  location.assign(signInUrl(reason));
  return new Promise(() => {});
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

/** One API call; `anonymous` calls (sign-in, sign-out) go without a key and report a 401 instead of leaving;
 * `stay` calls (background reads) report a 401 too, leaving the redirect to the page's own calls. */
async function request(method, path, { body, query, anonymous = false, stay = false } = {}) {
  if (!anonymous && !storedKey()) return toSignIn();
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
  if (response.status === 401 && !anonymous && !stay) return toSignIn("expired");
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
  // the browser session: sign in with a key (also sets the cookie /rq accepts), who is signed in, sign out
  signIn: (key) => request("POST", "/auth/session", { body: { key }, anonymous: true }),
  whoAmI: () => request("GET", "/auth/session"),
  signOut: () => request("DELETE", "/auth/session", { anonymous: true }),

  // the emergency stop
  tradingStatus: () => request("GET", "/api/trading/status", { stay: true }),
  haltTrading: (body) => request("POST", "/api/trading/halt", { body }),
  resumeTrading: () => request("POST", "/api/trading/resume"),

  // wallets and models
  wallets: () => request("GET", "/api/wallets"),
  createWallet: (body) => request("POST", "/api/wallets", { body }),
  walletsQuietly: () => request("GET", "/api/wallets", { stay: true }),  // a side panel's read: the page redirects
  patchWallet: (alias, body) => request("PATCH", `/api/wallets/${enc(alias)}`, { body }),
  resetBreaker: (alias) => request("POST", `/api/wallets/${enc(alias)}/circuit-breaker/reset`),
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

  // human approval of BUYs: status PENDING | APPROVED | REJECTED | EXPIRED (empty: all)
  approvals: (status) => request("GET", "/api/approvals", { query: { status } }),
  pendingApprovals: () => request("GET", "/api/approvals", { query: { status: "PENDING" }, stay: true }),
  approve: (id) => request("POST", `/api/approvals/${enc(id)}/approve`),
  reject: (id) => request("POST", `/api/approvals/${enc(id)}/reject`),

  // positions
  positions: (status, walletAlias) =>
    request("GET", "/api/positions", { query: { status, wallet_alias: walletAlias } }),
  position: (id) => request("GET", `/api/positions/${enc(id)}`),
  sellPosition: (id, pct) => request("POST", `/api/positions/${enc(id)}/sell`, { body: { pct } }),
  // performance of closed positions: query { from, to } (ISO times, [from, to))
  walletPerformance: (alias, query) => request("GET", `/api/wallets/${enc(alias)}/performance`, { query }),
  workflowPerformance: (id, query) => request("GET", `/api/buy/workflows/${enc(id)}/performance`, { query }),
  // backtests: POST answers 202 with the queued run; GET shows its progress and, when DONE, its result
  createBacktest: (body) => request("POST", "/api/backtests", { body }),
  backtest: (id) => request("GET", `/api/backtests/${enc(id)}`),
  coinMetrics: (mint, query) => request("GET", `/api/coins/${enc(mint)}/metrics`, { query }),
};

// Sign-in page: the API key goes to POST /auth/session (the cookie /rq accepts) and is kept for this tab's session.

import { api, rememberKey } from "./api.js";
import { $ } from "./dom.js";

const form = $("#signin-form");

/** The page to return to: a path on this site only (the server already cleaned it). */
function nextPath() {
  const target = new URL(form.dataset.next || "/", location.origin);
  return target.origin === location.origin ? target.pathname + target.search + target.hash : "/";
}

function showError(message) {
  $("#signin-error").textContent = message;
  $("#signin-error").hidden = false;
  $("#key").setAttribute("aria-invalid", "true");
  $("#key").focus();
}

async function submit(event) {
  event.preventDefault();
  const key = $("#key").value.trim();
  if (!key) return showError("Enter your API key.");
  $("#signin-submit").disabled = true;
  try {
    await api.signIn(key);
    rememberKey(key);
    location.replace(nextPath());
  } catch (err) {
    showError(err.message);
  } finally {
    $("#signin-submit").disabled = false;
  }
}

form.addEventListener("submit", submit);
$("#key").addEventListener("input", () => {
  $("#signin-error").hidden = true;
  $("#key").removeAttribute("aria-invalid");
});
document.body.dataset.loaded = "true";

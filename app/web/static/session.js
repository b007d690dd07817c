// The page header's session box: "signed in as <name> (role)" and the sign-out button (every page but sign-in).

import { api, forgetKey } from "./api.js";
import { $, toast } from "./dom.js";

const ROLE_HINT = { "read-only": "This key can look but not change anything." };

async function showWhoAmI() {
  const who = await api.whoAmI();
  $("#whoami-name").textContent = who.name;
  $("#whoami-role").textContent = `(${who.role})`;
  $("#whoami").title = ROLE_HINT[who.role] || "";
  $("#whoami").hidden = false;
  document.body.dataset.role = who.role;
}

async function signOut() {
  $("#sign-out").disabled = true;
  try {
    await api.signOut();
  } catch (err) {
    toast(`Sign-out could not clear the /rq session: ${err.message}`, "error");
  }
  forgetKey();
  location.assign("/signin?reason=signed-out");
}

$("#sign-out").addEventListener("click", signOut);
showWhoAmI().catch((err) => toast(`Could not check the key: ${err.message}`, "error"));

// The nav's approvals badge (every page but sign-in): how many BUYs wait for a human decision.

import { api } from "./api.js";
import { $ } from "./dom.js";

const REFRESH_MS = 15000;

/** Show the number of PENDING approvals next to the nav link (nothing when none). */
export async function refreshApprovalsBadge() {
  const badge = $("#approvals-badge");
  if (!badge) return;
  try {
    const pending = await api.pendingApprovals();
    badge.textContent = pending.length ? String(pending.length) : "";
  } catch {
    /* the badge stays as it was; the page's own calls report errors */
  }
}

refreshApprovalsBadge();
setInterval(refreshApprovalsBadge, REFRESH_MS);

"""Security headers on pages and files, no CORS, the sign-in session, and /rq behind the same key."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from rq import Queue

from app.core.states import KeyRole
from app.services.api_keys import create_key, revoke_key
from app.web.csp import InlineCode, inline_code

SITE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
               "frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
FIXED = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"}
PAGES = ("/", "/positions", "/approvals", "/performance", "/backtest", "/signin", "/docs")
FILES = ("/ui/static/api.js", "/ui/static/app.css", "/_swagger/swagger-ui-bundle.js", "/_swagger/swagger-ui.css")
EVIL = "https://evil.example"
EMPTY = "/rq/queue/default/queued/empty"


def basic(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"anyone:{key}".encode()).decode()}


@pytest.fixture
def signed_in(app, admin_key):
    """A browser-like client signed in through POST /auth/session (it holds only the session cookie)."""
    browser = app.test_client()
    response = browser.post("/auth/session", json={"key": admin_key})
    assert response.status_code == 200 and response.get_json() == {"name": "test-admin", "role": "admin"}
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and admin_key not in cookie
    return browser


@pytest.fixture
def queued(redis_conn):
    """The `default` queue with one waiting job."""
    queue = Queue("default", connection=redis_conn)
    queue.enqueue("math.sqrt", 4)
    return queue


def test_pages_files_and_probes_carry_the_security_headers(anonymous_client):
    for path in (*PAGES, *FILES, "/healthz", "/openapi.json"):
        response = anonymous_client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Content-Security-Policy"] == SITE_POLICY, path
        for name, value in FIXED.items():
            assert response.headers[name] == value, (path, name)


def test_our_pages_have_no_inline_script_or_style(anonymous_client):
    for path in PAGES:
        html = anonymous_client.get(path).get_data(as_text=True)
        assert inline_code(html) == InlineCode(), path
        assert all('src="' in tag for tag in re.findall(r"<script[^>]*>", html)), path
        assert " style=" not in html and "javascript:" not in html, path


def test_a_cross_origin_preflight_and_request_get_no_cors_headers(client, anonymous_client):
    preflight = anonymous_client.options("/api/wallets", headers={
        "Origin": EVIL, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    read = client.get("/api/wallets", headers={"Origin": EVIL})
    session = anonymous_client.options("/auth/session",
                                       headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"})
    assert read.status_code == 200
    for response in (preflight, read, session):
        assert not [name for name in response.headers.keys() if name.lower().startswith("access-control-")]


def test_rq_pages_allow_exactly_their_own_inline_script(signed_in, queued):
    for path in ("/rq/", "/rq/0/view/jobs/default/queued/8/asc/1"):
        response = signed_in.get(path)
        assert response.status_code == 200, path
        policy = response.headers["Content-Security-Policy"]
        scripts = re.findall(r'<script type="text/javascript">(.*?)</script>', response.get_data(as_text=True), re.S)
        digests = ["'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'" for s in scripts]
        script_src = next(part for part in policy.split("; ") if part.startswith("script-src "))
        assert script_src == " ".join(["script-src 'self' 'unsafe-eval'", *digests]), path
        assert "'unsafe-inline'" not in policy and "frame-ancestors 'none'" in policy
    jobs_policy = signed_in.get("/rq/0/view/jobs/default/queued/8/asc/1").headers["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-hashes' 'sha256-" in jobs_policy  # its few style="…" attributes


def test_the_sign_in_cookie_opens_rq_and_says_who_is_signed_in(signed_in, anonymous_client):
    assert signed_in.get("/rq/").status_code == 200
    assert signed_in.get("/rq/0/data/queues.json").status_code == 200
    assert signed_in.get("/auth/session").get_json() == {"name": "test-admin", "role": "admin"}
    assert signed_in.get("/api/wallets").status_code == 401  # the cookie is for /rq only: /api takes the key
    refused = anonymous_client.get("/rq/")
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Basic")


def test_a_cross_origin_state_change_on_rq_is_refused(signed_in, queued):
    for headers in ({"Origin": EVIL}, {"Referer": f"{EVIL}/page"}, {"Origin": "null"}, {}):
        response = signed_in.post(EMPTY, headers=headers)
        assert response.status_code == 403, headers
        assert "Cross-site request refused" in response.get_json()["message"]
    assert queued.count == 1
    assert signed_in.post("/rq/queue/default/compact", headers={"Referer": "http://localhost/rq/"}).status_code == 200
    assert signed_in.post(EMPTY, headers={"Origin": "http://localhost"}).status_code == 200
    assert queued.count == 0


def test_destructive_rq_actions_need_an_admin_key(app, conn, queued):
    _, viewer = create_key(conn, "viewer", KeyRole.READ_ONLY)
    browser = app.test_client()
    assert browser.post("/auth/session", json={"key": viewer}).get_json() == {"name": "viewer", "role": "read-only"}
    assert browser.get("/rq/").status_code == 200
    response = browser.post(EMPTY, headers={"Origin": "http://localhost"})
    assert response.status_code == 403 and "read-only" in response.get_json()["message"]
    assert app.test_client().post(EMPTY, headers=basic(viewer)).status_code == 403
    assert queued.count == 1


def test_rq_takes_basic_with_the_key_as_password_and_refuses_requeue_by_get(anonymous_client, admin_key, queued):
    assert anonymous_client.get("/rq/", headers=basic(admin_key)).status_code == 200
    assert anonymous_client.get("/rq/", headers=basic("tw_wrong")).status_code == 401
    refused = anonymous_client.get("/rq/requeue/default", headers=basic(admin_key))
    assert refused.status_code == 405 and refused.headers["Allow"] == "POST"
    assert anonymous_client.post(EMPTY, headers=basic(admin_key)).status_code == 200  # not cookie-authenticated
    assert queued.count == 0


def test_signing_out_or_revoking_ends_the_session(signed_in, conn, app, admin_key):
    assert signed_in.delete("/auth/session").get_json() == {"status": "signed out"}
    assert signed_in.get("/rq/").status_code == 401
    assert signed_in.get("/auth/session").status_code == 401
    again = app.test_client()
    again.post("/auth/session", json={"key": admin_key})
    revoke_key(conn, "test-admin")
    assert again.get("/rq/").status_code == 401 and again.get("/auth/session").status_code == 401


def test_who_am_i_takes_the_bearer_key(anonymous_client, conn):
    _, key = create_key(conn, "desk", KeyRole.READ_ONLY)
    response = anonymous_client.get("/auth/session", headers={"Authorization": f"Bearer {key}"})
    assert response.get_json() == {"name": "desk", "role": "read-only"}
    refused = anonymous_client.get("/auth/session", headers={"Authorization": "Bearer tw_wrong"})
    assert refused.status_code == 401 and "unknown or revoked" in refused.get_json()["message"]
    assert anonymous_client.get("/auth/session").status_code == 401


def test_sign_in_refuses_a_wrong_or_missing_key(anonymous_client):
    wrong = anonymous_client.post("/auth/session", json={"key": "tw_wrong"})
    assert wrong.status_code == 401 and wrong.get_json()["message"] == "The API key is unknown or revoked."
    missing = anonymous_client.post("/auth/session", json={})
    assert missing.status_code == 422 and missing.get_json()["errors"]["json"]["key"]
    assert "Set-Cookie" not in wrong.headers and "Set-Cookie" not in missing.headers


@pytest.mark.parametrize(("asked", "kept"), [
    ("/positions#closed", "/positions#closed"),
    ("/?x=1", "/?x=1"),
    ("//evil.example/", "/"),
    ("https://evil.example/", "/"),
    ("/\\evil.example", "/"),
    ("/\t/evil.example", "/"),
    ("positions", "/"),
    ("/signin?next=/", "/"),
    ("", "/"),
])
def test_sign_in_returns_only_to_a_page_of_this_site(anonymous_client, asked, kept):
    html = anonymous_client.get("/signin", query_string={"next": asked}).get_data(as_text=True)
    assert f'data-next="{kept}"' in html

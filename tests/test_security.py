"""Security headers, CSRF, trusted proxies and deny-by-default."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from register.models import Notification
from tests.factories import NotificationFactory, UserFactory


@pytest.mark.parametrize("path", ["/", "/healthz", "/no-such-page", "/inbox/"])
def test_security_headers_on_every_response(client, path):
    headers = client.get(path).headers
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp
    assert "'unsafe-inline'" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_pages_have_no_inline_script_or_style(client, auth):
    user = UserFactory()
    NotificationFactory(recipient=user)
    auth.login(user)
    for path in ("/", "/inbox/"):
        page = client.get(path).get_data(as_text=True)
        assert "<script>" not in page and "<script type" not in page
        assert "<style" not in page
        assert "style=" not in page
        assert "onclick" not in page.lower()
        assert "https://" not in page  # everything is served from here: no CDN


def test_csrf_refused_without_a_token_and_nothing_changes(client, auth, db):
    user = UserFactory()
    notification = NotificationFactory(recipient=user)
    auth.login(user)
    response = client.post("/inbox/read-all", data={})
    assert response.status_code == 400
    assert "form has expired" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Notification, notification.id).read_at is None

    bad = client.post("/inbox/read-all", data={"csrf_token": "forged"})
    assert bad.status_code == 400

    ok = client.post_form("/inbox/read-all")
    assert ok.status_code == 302
    db.session.expire_all()
    assert db.session.get(Notification, notification.id).read_at is not None


def client_address_seen(make_app, forwarded_for: str, **settings: str) -> str:
    """The address the app takes for a request sent with this X-Forwarded-For header."""
    app = make_app(**settings)
    seen = []

    @app.get("/whoami")
    def whoami():
        from flask import request

        seen.append(request.remote_addr)
        return "ok"

    app.config["PUBLIC_ENDPOINTS"].add("whoami")
    app.test_client().get("/whoami", headers={"X-Forwarded-For": forwarded_for})
    return seen[0]


def test_client_address_ignores_forwarded_for_without_trusted_proxies(make_app):
    assert client_address_seen(make_app, "203.0.113.9") == "127.0.0.1"


def test_client_address_through_one_trusted_proxy(make_app):
    # The proxy appends the real client; anything the client sent before it is not trusted.
    seen = client_address_seen(make_app, "198.51.100.1, 203.0.113.9", TRUSTED_PROXIES="1")
    assert seen == "203.0.113.9"


def test_every_private_endpoint_refuses_anonymous_visitors(app, client):
    """Deny by default: any endpoint not on the public allowlist sends anonymous to sign-in."""
    public = app.config["PUBLIC_ENDPOINTS"]
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in public:
            continue
        path = rule.rule
        for argument in rule.arguments:
            path = path.replace(f"<uuid:{argument}>", "00000000-0000-4000-8000-000000000000")
            path = path.replace(f"<{argument}>", "x")
            # <any(head, responsible):kind> takes its first choice
            path = re.sub(rf"<any\(([^,)]+)[^>]*\):{argument}>", r"\1", path)
        method = "GET" if "GET" in rule.methods else sorted(rule.methods - {"OPTIONS"})[0]
        if method == "GET":
            response = client.get(path)
        else:
            response = client.open(path, method=method, data={"csrf_token": client.csrf_token()})
        assert response.status_code == 302, (rule.endpoint, response.status_code)
        assert response.headers["Location"].startswith("/auth/sign-in"), rule.endpoint
        checked += 1
    assert checked >= 3


def test_public_allowlist_is_small_and_known(app):
    assert app.config["PUBLIC_ENDPOINTS"] >= {"public.index", "public.healthz", "public.readyz"}
    assert not any(endpoint.startswith("inbox.") for endpoint in app.config["PUBLIC_ENDPOINTS"])


def test_sqlalchemy_never_puts_parameters_in_errors(db):
    existing = NotificationFactory()
    with pytest.raises(sa.exc.IntegrityError) as excinfo:
        db.session.execute(
            sa.insert(Notification).values(
                id=existing.id,  # a duplicate primary key
                recipient_id=existing.recipient_id,
                kind="test",
                subject="Secret Person Name",
                body="Secret body",
                delivery_status="pending",
                attempts=0,
                sensitive=False,
            )
        )
    db.session.rollback()
    message = str(excinfo.value)
    assert "Secret Person Name" not in message
    assert "parameters hidden" in message.lower() or "hide_parameters" in message.lower()

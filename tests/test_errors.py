"""Error pages, problem details, the database-down 503 and the health checks."""

from __future__ import annotations

import logging
import uuid

import pytest
from flask import Blueprint, abort

from tests.conftest import ON_POSTGRES


def boom_app(make_app, **settings):
    """An app with routes that fail on purpose."""
    app = make_app(**settings)
    failing = Blueprint("failing", __name__)

    @failing.get("/boom")
    def boom():
        raise RuntimeError("secret detail that must not reach the page")

    @failing.get("/limited")
    def limited():
        abort(429)

    @failing.get("/api/v1/boom")
    def api_boom():
        raise RuntimeError("api failure")

    app.register_blueprint(failing)
    app.config["PUBLIC_ENDPOINTS"].update({"failing.boom", "failing.limited", "failing.api_boom"})
    return app


def test_404_page_is_in_the_site_layout(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Page not found" in page
    assert 'class="skip-link"' in page
    assert "site-footer" in page


def test_405_names_the_allowed_methods(client):
    response = client.post("/healthz")
    assert response.status_code in (400, 405)  # CSRF runs first on POST without a token
    response = client.delete("/")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert "This action is not allowed here" in response.get_data(as_text=True)


def test_413_when_the_body_is_too_large(client, app):
    too_big = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post(
        "/inbox/read-all", data=too_big, headers={"Content-Type": "application/octet-stream"}
    )
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)


def test_anonymous_browser_is_sent_to_sign_in_and_api_gets_401(client):
    response = client.get("/inbox/?page=2")
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/sign-in?next=/inbox/?page%3D2"
    api = client.get("/inbox/", headers={"Accept": "application/json"})
    assert api.status_code == 401
    assert api.mimetype == "application/problem+json"
    assert api.get_json()["title"] == "Please sign in"


def test_429_page(make_app):
    response = boom_app(make_app).test_client().get("/limited")
    assert response.status_code == 429
    assert "Too many requests" in response.get_data(as_text=True)


def test_500_shows_an_incident_id_that_is_in_the_log(make_app, caplog):
    app = boom_app(make_app)
    with caplog.at_level(logging.ERROR, logger="register.errors"):
        response = app.test_client().get("/boom")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "secret detail" not in page
    assert "Traceback" not in page
    incident = page.split('class="incident-id">', 1)[1].split("<", 1)[0]
    assert len(incident) == 12
    logged = [record for record in caplog.records if getattr(record, "incident_id", None)]
    assert [record.incident_id for record in logged] == [incident]
    assert logged[0].exc_info is not None  # the traceback goes to the log, not the page


def test_api_errors_are_problem_details(make_app, client):
    response = boom_app(make_app).test_client().get("/api/v1/boom")
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 500
    assert body["incident_id"]
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.mimetype == "application/problem+json"
    assert missing.get_json()["title"] == "Page not found"


def test_json_clients_get_problem_details_elsewhere_too(client):
    response = client.get("/nowhere", headers={"Accept": "application/json"})
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 404


def unreachable_database_url(tmp_path) -> str:
    if ON_POSTGRES:
        return "postgresql://postgres@127.0.0.1:1/test?connect_timeout=2"
    return f"sqlite:///{tmp_path / 'missing-folder' / 'db.sqlite3'}"


@pytest.fixture
def database_down_app(make_app, tmp_path, db):
    app = make_app(TEST_DATABASE_URL=unreachable_database_url(tmp_path))
    # This app must really use its own (unreachable) database, not the test transaction.
    db.session.remove()
    db.session.configure(bind=None)
    return app


def test_readyz_is_503_when_the_database_is_unreachable(database_down_app):
    client = database_down_app.test_client()
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "unreachable"}


def test_every_page_answers_a_clear_503_when_the_database_is_down(database_down_app):
    client = database_down_app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = f"{uuid.uuid4()}:1"  # loading the user needs the database
    for path in ("/", "/inbox/"):
        response = client.get(path)
        assert response.status_code == 503, path
        page = response.get_data(as_text=True)
        assert "temporarily unavailable" in page
        assert "Traceback" not in page
        assert "OperationalError" not in page


def test_readyz_ok_when_the_database_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["database"] == "ok"

"""One log line per request with its id, the user's id (never the e-mail), status and time."""

from __future__ import annotations

import json
import logging

from register.logs import JsonFormatter, RequestIdFilter
from tests.factories import UserFactory


def request_records(caplog):
    return [record for record in caplog.records if record.name == "register.request"]


def test_one_line_per_request_with_the_id_sent_back(client, caplog):
    with caplog.at_level(logging.INFO, logger="register.request"):
        response = client.get("/healthz?q=Private+Name")
    records = request_records(caplog)
    assert len(records) == 1
    record = records[0]
    assert record.request_id == response.headers["X-Request-ID"]
    assert len(record.request_id) == 32
    assert record.status == 200
    assert record.method == "GET"
    assert record.path == "/healthz"
    assert "Private" not in record.getMessage()  # the query string is never logged
    assert record.duration_ms >= 0
    assert record.user_id is None


def test_request_ids_differ(client):
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]
    assert first != second


def test_log_names_the_user_by_id_never_by_email(client, auth, caplog):
    user = UserFactory(email="private.person@example.kg")
    auth.login(user)
    with caplog.at_level(logging.INFO):
        client.get("/inbox/")
    record = request_records(caplog)[0]
    assert record.user_id == str(user.id)
    assert all("private.person" not in r.getMessage() for r in caplog.records)


def test_json_lines_formatter():
    record = logging.LogRecord(
        "register.request", logging.INFO, __file__, 1, "GET / 200", None, None
    )
    record.status = 200
    record.user_id = "abc"
    RequestIdFilter().filter(record)
    line = JsonFormatter().format(record)
    payload = json.loads(line)
    assert payload["message"] == "GET / 200"
    assert payload["status"] == 200
    assert payload["user_id"] == "abc"
    assert payload["level"] == "INFO"
    assert payload["request_id"] == "-"
    assert "\n" not in line


def test_production_logs_are_json(tmp_path, capfd):
    from config import ProductionConfig
    from register import create_app
    from tests.conftest import make_environ

    environ = make_environ(
        tmp_path,
        SECRET_KEY="y" * 40,
        DATABASE_URL="postgresql://nobody@127.0.0.1:1/none",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    app = create_app(ProductionConfig(environ))
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    err = capfd.readouterr().err
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    request_lines = [line for line in lines if line["logger"] == "register.request"]
    assert request_lines and request_lines[-1]["request_id"] == response.headers["X-Request-ID"]
    assert request_lines[-1]["status"] == 200

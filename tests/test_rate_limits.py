"""Rate limits on sign-in, sign-up and reset: in memory, and in Redis when REDIS_URL is set."""

from __future__ import annotations

import uuid

import pytest
import redis

from register.extensions import limiter

REDIS_URL = "redis://127.0.0.1:6379/15"


def post_sign_in(client, email: str, address: str = "127.0.0.1"):
    return client.post(
        "/auth/sign-in",
        data={"email": email, "password": "wrong password!", "csrf_token": client.csrf_token()},
        environ_base={"REMOTE_ADDR": address},
    )


def test_sign_in_is_limited_per_address_with_retry_after(make_app):
    app = make_app(RATE_LIMIT_SIGN_IN_IP="3 per minute", RATE_LIMIT_SIGN_IN_ACCOUNT="100/minute")
    client = app.test_client()
    statuses = [post_sign_in(client, f"u{n}@example.kg").status_code for n in range(3)]
    assert statuses == [200, 200, 200]
    limited = post_sign_in(client, "u9@example.kg")
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert "Too many requests" in limited.get_data(as_text=True)
    # Another address is not affected.
    assert post_sign_in(client, "u9@example.kg", address="198.51.100.7").status_code == 200


def test_sign_in_is_limited_per_account_across_addresses(make_app):
    app = make_app(RATE_LIMIT_SIGN_IN_IP="100/minute", RATE_LIMIT_SIGN_IN_ACCOUNT="2 per minute")
    client = app.test_client()
    for n in range(2):
        assert post_sign_in(client, "Victim@Example.kg", f"203.0.113.{n}").status_code == 200
    assert post_sign_in(client, "victim@example.kg", "203.0.113.99").status_code == 429
    assert post_sign_in(client, "other@example.kg", "203.0.113.99").status_code == 200


def test_a_forwarded_for_header_does_not_escape_the_limit(make_app):
    app = make_app(RATE_LIMIT_SIGN_IN_IP="2 per minute", RATE_LIMIT_SIGN_IN_ACCOUNT="100/minute")
    client = app.test_client()
    for n in range(2):
        client.post(
            "/auth/sign-in",
            data={"email": f"a{n}@example.kg", "password": "x", "csrf_token": client.csrf_token()},
            headers={"X-Forwarded-For": f"192.0.2.{n}"},
        )
    response = client.post(
        "/auth/sign-in",
        data={"email": "a7@example.kg", "password": "x", "csrf_token": client.csrf_token()},
        headers={"X-Forwarded-For": "192.0.2.77"},
    )
    assert response.status_code == 429


def test_sign_up_and_reset_are_limited(make_app):
    app = make_app(RATE_LIMIT_SIGN_UP_IP="1 per minute", RATE_LIMIT_RESET_IP="1 per minute")
    client = app.test_client()
    form = {"full_name": "X", "email": "bad", "password": "p", "password_confirm": "p"}
    assert client.post_form("/auth/sign-up", form).status_code == 200
    assert client.post_form("/auth/sign-up", form).status_code == 429
    assert client.post_form("/auth/forgot-password", {"email": "a@b.kg"}).status_code == 200
    assert client.post_form("/auth/forgot-password", {"email": "c@d.kg"}).status_code == 429
    assert client.get("/auth/sign-up").status_code == 200  # reading the form is not limited


def test_api_clients_get_problem_details_for_429(make_app):
    app = make_app(RATE_LIMIT_SIGN_IN_IP="1 per minute")
    client = app.test_client()
    post_sign_in(client, "a@example.kg")
    response = client.post(
        "/auth/sign-in",
        data={"email": "b@example.kg", "password": "x", "csrf_token": client.csrf_token()},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 429
    assert response.mimetype == "application/problem+json"


@pytest.fixture
def redis_db():
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    yield connection
    connection.close()


def test_limits_count_in_redis_when_redis_url_is_set(make_app, redis_db):
    prefix = f"register-test-{uuid.uuid4().hex[:8]}"
    app = make_app(REDIS_URL=REDIS_URL, RATE_LIMIT_SIGN_IN_IP="2 per minute")
    app.config["RATELIMIT_KEY_PREFIX"] = prefix
    limiter._key_prefix = prefix
    try:
        assert app.config["RATELIMIT_STORAGE_URI"] == REDIS_URL
        assert type(limiter.storage).__name__.lower().startswith("redis")
        client = app.test_client()
        assert post_sign_in(client, "r1@example.kg").status_code == 200
        assert post_sign_in(client, "r2@example.kg").status_code == 200
        assert post_sign_in(client, "r3@example.kg").status_code == 429
        keys = [key.decode() for key in redis_db.scan_iter(f"*{prefix}*")]
        assert keys, "no counters were written to Redis"
        # A second app server sharing the Redis counters is refused too.
        other = make_app(REDIS_URL=REDIS_URL, RATE_LIMIT_SIGN_IN_IP="2 per minute")
        limiter._key_prefix = prefix
        assert post_sign_in(other.test_client(), "r4@example.kg").status_code == 429
    finally:
        for key in redis_db.scan_iter(f"*{prefix}*"):
            redis_db.delete(key)
        limiter._key_prefix = "register"

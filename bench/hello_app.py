"""The register app with one extra public endpoint, `/bench/hello`, for `bench/public.py`.

Served as `gunicorn bench.hello_app:app`: the same workers answer the register's pages and a
hello-world that goes through the same hooks (request id, transaction, headers, log line), so
the ratio of their requests per second shows what search costs over the framework alone. The
route exists only here; the register itself never has it.
"""

from __future__ import annotations

from register.wsgi import app


def hello() -> str:
    """The cheapest answer the app can give."""
    return "ok"


app.add_url_rule("/bench/hello", endpoint="bench_hello", view_func=hello)
app.config["PUBLIC_ENDPOINTS"].add("bench_hello")

__all__ = ["app"]

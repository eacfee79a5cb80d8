"""What the benchmarks share: where their data lives, the databases, timing and tables.

Benchmark data is kept under `bench/data/` (git-ignored) so that a second run reuses it: one
instance folder (`bench/data/instance`: the development secret and key file) for every
benchmark database, SQLite files beside it, PostgreSQL databases on `BENCH_POSTGRES_URL`
(default postgresql://postgres@127.0.0.1:5432/). The app's own commands (`dev init`, `db
upgrade`, `keys rotate --data --if-missing`, …) are run as subprocesses with the environment
a real deployment would have: `REGISTER_INSTANCE_PATH`, `DATABASE_URL`, `REGISTER_CONFIG`.
Nothing here asserts a timing: figures are printed beside their targets with OK or MISS.
"""

from __future__ import annotations

import math
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
INSTANCE = DATA / "instance"
BIN = Path(sys.executable).parent
POSTGRES_SERVER = os.environ.get("BENCH_POSTGRES_URL") or "postgresql://postgres@127.0.0.1:5432/"
# Settings inherited from the caller's shell that would point the app elsewhere.
INHERITED_OUT = ("SECRET_KEY", "REGISTER_KEYS_FILE", "OPEN_DATA_DIR", "TEST_DATABASE_URL")


# -- figures -----------------------------------------------------------------------------------


def percentile(samples: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of `samples` (fraction 0.95 is p95)."""
    ordered = sorted(samples)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass(frozen=True)
class Stats:
    """Median, p95 and p99 of a list of durations, in milliseconds."""

    median: float
    p95: float
    p99: float
    n: int

    @classmethod
    def of(cls, samples_ms: Sequence[float]) -> Stats:
        """The figures of `samples_ms`."""
        if not samples_ms:
            return cls(math.nan, math.nan, math.nan, 0)
        return cls(
            statistics.median(samples_ms),
            percentile(samples_ms, 0.95),
            percentile(samples_ms, 0.99),
            len(samples_ms),
        )


def timed_ms(function: Callable[[], object]) -> float:
    """Milliseconds one call of `function` takes."""
    start = time.perf_counter()
    function()
    return (time.perf_counter() - start) * 1000


@dataclass(frozen=True)
class Target:
    """A figure's target: at most (or at least) `limit` `unit`."""

    limit: float
    unit: str
    at_most: bool = True

    def verdict(self, value: float) -> str:
        """OK when `value` meets the target, MISS otherwise (or when it could not be measured)."""
        if math.isnan(value):
            return "MISS"
        met = value <= self.limit if self.at_most else value >= self.limit
        return "OK" if met else "MISS"

    def __str__(self) -> str:
        return f"{'≤' if self.at_most else '≥'} {self.limit:g}{self.unit}"


def ms(value: float) -> str:
    """A duration in milliseconds for a table."""
    return "—" if math.isnan(value) else f"{value:.1f}"


def print_table(title: str, headers: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Print `rows` under `headers` as an aligned plain-text table (numbers right-aligned)."""
    cells = [[str(cell) for cell in row] for row in rows]
    widths = [len(header) for header in headers]
    for row in cells:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]

    def line(values: Sequence[str]) -> str:
        parts = []
        for value, width in zip(values, widths, strict=True):
            numeric = value[:1].isdigit() or (value[:1] in "-—" and len(value) > 1)
            parts.append(value.rjust(width) if numeric else value.ljust(width))
        return "  ".join(parts).rstrip()

    print(f"\n{title}")
    print(line(list(headers)))
    print("  ".join("-" * width for width in widths))
    for row in cells:
        print(line(row))
    sys.stdout.flush()


@dataclass
class Summary:
    """Every headline figure of a run, printed together at the end."""

    rows: list[tuple[str, str, str, str, str]] = field(default_factory=list)

    def add(
        self, what: str, database: str, figure: str, target: str = "", verdict: str = ""
    ) -> None:
        """Add one line: what was measured, where, the figure and its target."""
        self.rows.append((what, database, figure, target or "—", verdict or "—"))

    def measured(self, what: str, database: str, value: float, unit: str, target: Target) -> None:
        """Add a figure with its target and verdict."""
        figure = "—" if math.isnan(value) else f"{value:,.1f}{unit}"
        self.add(what, database, figure, str(target), target.verdict(value))

    def print(self, title: str) -> None:
        """Print the summary table."""
        print_table(title, ("what", "database", "figure", "target", "result"), self.rows)


# -- databases ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Database:
    """One benchmark database and the environment the app runs with on it."""

    label: str  # sqlite or postgresql
    url: str
    sqlite_file: Path | None = None

    @property
    def env(self) -> dict[str, str]:
        """The process environment of the app on this database."""
        environ = {key: value for key, value in os.environ.items() if key not in INHERITED_OUT}
        environ.update(
            REGISTER_INSTANCE_PATH=str(INSTANCE),
            DATABASE_URL=self.url,
            REGISTER_CONFIG="development",
            LOG_LEVEL="WARNING",
            PYTHONUNBUFFERED="1",
        )
        return environ

    @property
    def shown(self) -> str:
        """Where it is, for messages (no password)."""
        if self.sqlite_file is not None:
            return str(self.sqlite_file.relative_to(ROOT))
        return make_url(self.url).render_as_string(hide_password=True)

    def engine(self) -> sa.Engine:
        """A plain engine (no app) for a quick look at the database."""
        from config import normalise_database_url

        return sa.create_engine(normalise_database_url(self.url))

    def count(self, sql: str) -> int:
        """The number `sql` answers; 0 when the table is not there yet."""
        engine = self.engine()
        try:
            with engine.connect() as connection:
                return int(connection.exec_driver_sql(sql).scalar() or 0)
        except sa.exc.DBAPIError:
            return 0
        finally:
            engine.dispose()

    def flask(self, *args: str, echo: bool = False) -> subprocess.CompletedProcess[str]:
        """Run `flask --app register ARGS` on this database; raise with its output on failure."""
        command = [str(BIN / "flask"), "--app", "register", *args]
        if echo:
            completed = subprocess.run(  # noqa: S603 - our own venv's flask, fixed arguments
                command, cwd=ROOT, env=self.env, text=True, check=False
            )
        else:
            completed = subprocess.run(  # noqa: S603 - our own venv's flask, fixed arguments
                command, cwd=ROOT, env=self.env, text=True, capture_output=True, check=False
            )
        if completed.returncode != 0:
            output = (completed.stdout or "") + (completed.stderr or "")
            raise RuntimeError(f"`flask {' '.join(args)}` failed on {self.label}:\n{output}")
        return completed

    def prepare(self) -> None:
        """Development secrets (kept if present), migrations, an active data key."""
        INSTANCE.mkdir(parents=True, exist_ok=True)
        self.flask("dev", "init")
        self.flask("db", "upgrade")
        self.flask("keys", "rotate", "--data", "--if-missing")

    def recreate(self) -> None:
        """Start again from an empty database."""
        if self.sqlite_file is not None:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{self.sqlite_file}{suffix}").unlink(missing_ok=True)
            return
        name = make_url(self.url).database
        admin = _admin_engine()
        try:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        finally:
            admin.dispose()

    def app(self) -> Flask:
        """The app on this database, in this process (development configuration)."""
        from config import DevelopmentConfig
        from register import create_app

        return create_app(DevelopmentConfig(self.env))


def sqlite_database(name: str) -> Database:
    """The SQLite file `bench/data/<name>.sqlite3`."""
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"{name}.sqlite3"
    return Database("sqlite", f"sqlite:///{path}", path)


def _admin_engine() -> sa.Engine:
    url = make_url(POSTGRES_SERVER).set(drivername="postgresql+psycopg", database="postgres")
    return sa.create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})


def postgres_database(name: str) -> Database | None:
    """The PostgreSQL database `name` (created when missing); None, said why, when unreachable."""
    admin = _admin_engine()
    try:
        with admin.connect() as connection:
            exists = connection.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).scalar()
            if not exists:
                connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
                print(f"Created PostgreSQL database {name}.")
    except sa.exc.OperationalError as error:
        shown = make_url(POSTGRES_SERVER).render_as_string(hide_password=True)
        print(f"PostgreSQL skipped: {shown} does not answer ({str(error.orig).strip()}).")
        return None
    finally:
        admin.dispose()
    url = make_url(POSTGRES_SERVER).set(database=name)
    return Database("postgresql", url.render_as_string(hide_password=False))


def databases(only: str | None, sqlite_name: str, postgres_name: str) -> list[Database]:
    """The databases a run asks for (`--only sqlite|postgresql`, or both)."""
    found: list[Database] = []
    if only in (None, "sqlite"):
        found.append(sqlite_database(sqlite_name))
    if only in (None, "postgresql"):
        postgres = postgres_database(postgres_name)
        if postgres is not None:
            found.append(postgres)
    return found


def free_port() -> int:
    """A TCP port nobody listens on now (on 127.0.0.1)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def relative(path: Path) -> str:
    """`path` relative to the project, for messages."""
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)

# ruff: noqa: RUF001 - the queries are Kyrgyz and Russian, in Cyrillic
"""Benchmark of the public register: search, entry pages, HTTP throughput, open data export.

    .venv/bin/python bench/public.py [--holders 1200000] [--seed 1] [--only sqlite|postgresql]
                                     [--queries 100] [--entries 200] [--duration 15]
                                     [--skip http] [--skip open-data]

For each database (the SQLite file `bench/data/register-<holders>.sqlite3`, and the PostgreSQL
database `bench_register` on BENCH_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432/,
created when missing) it migrates, generates the synthetic register with `flask --app register
demo generate` unless the database already holds that many entries (a second run reuses it;
one holding fewer is topped up, never deleted), then measures, in process with a test client:

- `registry.search(..., count=True)`, the `/registry?q=` page and the `/api/v1/holders?q=` API
  over a fixed list of 50 realistic queries (common words, rare words taken from generated
  names, prefixes, spellings without Kyrgyz letters, TINs, registration numbers, with and
  without filters); `--queries` searches are timed per operation, going round the list;
- the entry page `/registry/<number>` and `/api/v1/holders/<number>` over `--entries` random
  registration numbers;

then, through gunicorn (2 workers, `bench.hello_app:app`), requests per second of
`/registry?q=<word>` against a hello-world in the same workers (wrk when installed, else a
Python load generator: threads and http.client connections), and last the time and peak memory
of `flask --app register open-data export`. Targets (DESIGN.md §6, at 1.2 M holders): search
p95 ≤ 50 ms, entry page p95 ≤ 30 ms, search throughput ≥ 0.25 of hello-world, open data ≤ 60 s
and ≤ 150 MB. Prints the figures beside their targets; asserts nothing.
"""

from __future__ import annotations

import argparse
import functools
import http.client
import importlib
import json
import math
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from bench.common import (
    BIN,
    DATA,
    ROOT,
    Database,
    Stats,
    Summary,
    Target,
    databases,
    free_port,
    ms,
    print_table,
    relative,
    timed_ms,
)
from register.extensions import db
from register.models import EntryStatus, RegisterEntry
from register.services import registry
from register.services.registry import Filters

SEARCH_TARGET = Target(50, " ms")
ENTRY_TARGET = Target(30, " ms")
RATIO_TARGET = Target(0.25, "", at_most=False)
EXPORT_TIME_TARGET = Target(60, " s")
EXPORT_MEMORY_TARGET = Target(150, " MB")
POSTGRES_NAME = "bench_register"
GENERATED = DATA / "generated.json"  # holders/s of each generation, shown again on reuse
HELLO_PATH = "/bench/hello"

COMMON_WORDS = (
    "ала",
    "альянс",
    "сервис",
    "жоопкерчилиги",
    "коому",
    "общество",
    "капитал",
    "манас",
    "бишкек",
    "строй",
    "ынтымак",
    "ош",
)
PREFIXES = ("мед", "тех", "бишк", "финан", "жалал")
# Kyrgyz letters typed as their Russian look-alikes: Өзгөн, Үмүт, Өрнөк, Өмүрбеков.
PLAIN_SPELLINGS = ("озгон", "умут", "орнок", "омурбеков")
PHRASES = ("ала тоо", "альянс капитал", "ак-суу", "ИП Асанов")


@dataclass(frozen=True)
class Query:
    """One search of the fixed list: what kind it is and its filters."""

    kind: str
    filters: Filters

    @property
    def shown(self) -> str:
        """The query as a reader wants to see it: `q` quoted, then the other filters."""
        args = self.filters.as_args()
        words = [repr(args.pop("q"))] if "q" in args else []
        return " ".join(words + [f"{name}={value}" for name, value in args.items()])

    @property
    def query_string(self) -> str:
        """The filters as a URL query string."""
        return urllib.parse.urlencode(self.filters.as_args())


@dataclass(frozen=True)
class Sampled:
    """An entry picked at random: what the queries take from it."""

    number: str
    legal_name: str
    tin: str | None
    region: str
    sector: str


# -- the data ----------------------------------------------------------------------------------


def load_generated() -> dict[str, Any]:
    """What earlier generations recorded (holders/s), by database."""
    try:
        return dict(json.loads(GENERATED.read_text(encoding="utf-8")))
    except (FileNotFoundError, ValueError):
        return {}


def generate(database: Database, holders: int, seed: int) -> float:
    """Run `demo generate`, echoing its progress; the holders per second it reports."""
    command = [
        str(BIN / "flask"),
        *("--app", "register", "demo", "generate"),
        *("--holders", str(holders), "--seed", str(seed)),
    ]
    started = time.perf_counter()
    lines: list[str] = []
    with subprocess.Popen(  # noqa: S603 - our own venv's flask, fixed arguments
        command,
        cwd=ROOT,
        env=database.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as process:
        assert process.stdout is not None  # noqa: S101 - stdout=PIPE
        for line in process.stdout:
            lines.append(line.rstrip())
            print(f"    {line.rstrip()}", flush=True)
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"demo generate failed on {database.label}:\n" + "\n".join(lines[-20:]))
    reported = re.findall(r"([\d,.]+) holders/s", "\n".join(lines))
    if reported:
        return float(reported[-1].replace(",", ""))
    return holders / seconds  # the command's output changed: wall time, process start included


def ensure_holders(database: Database, holders: int, seed: int, summary: Summary) -> int:
    """Migrate, and generate what is missing of `holders` entries; how many it holds then.

    A database that already holds them is reused as it is. One that holds fewer (an interrupted
    generation, or one made in parts) is topped up: the generator carries on from the entries
    already there with the same seed. Nothing is ever deleted here.
    """
    database.prepare()
    count = database.count("SELECT count(*) FROM register_entries")
    recorded = load_generated()
    if count >= holders:
        note = "" if count == holders else f" (more than the {holders:,} asked for)"
        print(f"  Reusing {database.shown}: {count:,} entries{note}.")
        earlier = recorded.get(database.shown)
        if earlier:
            summary.add(
                "generator (earlier run)",
                database.label,
                f"{earlier['per_second']:,.0f} holders/s",
            )
        return count
    missing = holders - count
    if count:
        print(f"  {database.shown} holds {count:,} entries: generating the other {missing:,}.")
    print(f"  Generating {missing:,} holders (seed {seed}) into {database.shown}…", flush=True)
    per_second = generate(database, missing, seed)
    print(f"  Generator: {per_second:,.0f} holders/s")
    summary.add("generator", database.label, f"{per_second:,.0f} holders/s")
    recorded[database.shown] = {"holders": missing, "seed": seed, "per_second": per_second}
    GENERATED.write_text(json.dumps(recorded, indent=2) + "\n", encoding="utf-8")
    return database.count("SELECT count(*) FROM register_entries")


def sample_entries(count: int, seed: int) -> list[Sampled]:
    """`count` different entries picked at random (the same ones for the same seed and data).

    A random UUID between the smallest and largest id is a pivot and the first entry at or
    after it (by id, the primary key) is taken: one index look-up each, at any size.
    """
    rng = random.Random(seed)
    entries = RegisterEntry
    columns = (
        entries.registration_number,
        entries.legal_name,
        entries.tin,
        entries.region_code,
        entries.sector_code,
    )
    found: dict[str, Sampled] = {}
    # Pivots are drawn between the smallest and the largest id: the generator's ids are not
    # spread over all of UUID space (they grow with the holders).
    low = db.session.scalar(sa.select(entries.id).order_by(entries.id).limit(1))
    high = db.session.scalar(sa.select(entries.id).order_by(entries.id.desc()).limit(1))
    if low is None or high is None:
        return []
    for _ in range(count * 5):
        if len(found) >= count:
            break
        pivot = uuid.UUID(int=rng.randint(low.int, high.int))
        row = (
            db.session.execute(
                sa.select(*columns).where(entries.id >= pivot).order_by(entries.id).limit(1)
            ).first()
            or db.session.execute(sa.select(*columns).order_by(entries.id).limit(1)).first()
        )
        if row is None:
            break
        number, name, tin, region, sector = row
        found.setdefault(number, Sampled(number, name, tin, region or "", sector or ""))
    db.session.remove()
    return list(found.values())


def rarest_word(name: str) -> str | None:
    """The word of `name` (3 letters or more) that the fewest entries match."""
    words = sorted({word for word in registry.query_words(name) if len(word) >= 3})
    words = [word for word in words if not word.isdigit()]
    if not words:
        return None
    counts = {
        word: registry.search(Filters(q=word), limit=1, count=True).count or 0 for word in words
    }
    return min(words, key=lambda word: counts[word])


def build_queries(seed: int) -> list[Query]:
    """The fixed list of 50 queries, some taken from the database (needs an app context)."""
    picked = sample_entries(40, seed)
    queries = [Query("common word", Filters(q=word)) for word in COMMON_WORDS]
    queries += [Query("prefix", Filters(q=word)) for word in PREFIXES]
    queries += [Query("no Kyrgyz letters", Filters(q=word)) for word in PLAIN_SPELLINGS]
    queries += [Query("phrase", Filters(q=words)) for words in PHRASES]
    rare: list[str] = []
    for entry in picked:
        word = rarest_word(entry.legal_name)
        if word and word not in rare:
            rare.append(word)
        if len(rare) == 10:
            break
    queries += [Query("rare word", Filters(q=word)) for word in rare]
    tins = [entry.tin for entry in picked if entry.tin][:3]
    queries += [Query("TIN", Filters(q=tin)) for tin in tins]
    queries += [Query("number", Filters(q=entry.number)) for entry in picked[-3:]]
    regions = [entry.region for entry in picked] or [""]
    sectors = [entry.sector for entry in picked] or [""]
    queries += [
        Query("filtered", Filters(q="сервис", region=regions[0])),
        Query("filtered", Filters(q="ала", sector=sectors[0])),
        Query("filtered", Filters(q="альянс", status=EntryStatus.SUSPENDED)),
        Query("filters only", Filters(region=regions[-1])),
        Query("filtered", Filters(q="мед", cross_border=True)),
        Query("filters only", Filters(status=EntryStatus.STRUCK_OFF)),
        Query(
            "filtered", Filters(q="общество", region=regions[1 % len(regions)], sector=sectors[-1])
        ),
        Query("filters only", Filters(cross_border=True, special_categories=True)),
        Query("filtered", Filters(q="бишк", status=EntryStatus.REGISTERED, cross_border=False)),
    ]
    db.session.remove()
    return queries


# -- in process ------------------------------------------------------------------------------


def search_once(filters: Filters) -> None:
    """One search as the results page makes it (first page, 50, with the capped count)."""
    registry.search(filters, limit=registry.DEFAULT_LIMIT, count=True)


def time_service(queries: Sequence[Query], runs: int) -> list[float]:
    """Milliseconds of `registry.search` for `runs` queries, round the list, after a warm-up."""
    for query in queries:
        search_once(query.filters)
        db.session.remove()
    samples = []
    for number in range(runs):
        samples.append(
            timed_ms(functools.partial(search_once, queries[number % len(queries)].filters))
        )
        db.session.remove()
    return samples


def time_paths(
    client: FlaskClient, paths: Sequence[str], runs: int, warm: int
) -> tuple[list[float], int]:
    """Milliseconds of GET `paths` (round the list), after `warm` of them; and the errors."""
    for path in paths[:warm]:
        client.get(path)
    samples, errors = [], 0
    for number in range(runs):
        path = paths[number % len(paths)]
        start = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            errors += 1
    return samples, errors


def by_kind(queries: Sequence[Query], samples: Sequence[float]) -> None:
    """The service's figures by kind of query, with the slowest query of each kind."""
    per_query: dict[int, list[float]] = {}
    for number, value in enumerate(samples):
        per_query.setdefault(number % len(queries), []).append(value)
    kinds: dict[str, list[int]] = {}
    for index in per_query:
        kinds.setdefault(queries[index].kind, []).append(index)
    rows = []
    for kind, indexes in kinds.items():
        values = [value for index in indexes for value in per_query[index]]
        stats = Stats.of(values)
        worst = max(indexes, key=lambda index: statistics.median(per_query[index]))
        rows.append(
            (
                kind,
                len(indexes),
                ms(stats.median),
                ms(stats.p95),
                f"{queries[worst].shown} ({ms(statistics.median(per_query[worst]))} ms)",
            )
        )
    print_table(
        "  search (service) by kind of query, milliseconds",
        ("kind", "queries", "median", "p95", "slowest query (its median)"),
        rows,
    )


def in_process(
    app: Flask, database: Database, options: argparse.Namespace, summary: Summary
) -> list[Query]:
    """Service, pages and API, timed with a test client; prints the table; the queries used."""
    with app.app_context():
        queries = build_queries(options.seed)
        numbers = [entry.number for entry in sample_entries(options.entries, options.seed + 1)]
        print(f"  {len(queries)} queries:")
        kinds: dict[str, list[str]] = {}
        for query in queries:
            kinds.setdefault(query.kind, []).append(query.shown)
        for kind, shown in kinds.items():
            print(f"    {kind}: " + "; ".join(shown))
        service = time_service(queries, options.queries)
    client = app.test_client()
    runs = options.queries
    searches = [q.query_string for q in queries]
    figures: list[tuple[str, list[float], int, Target]] = [
        ("search (service)", service, 0, SEARCH_TARGET)
    ]
    for label, prefix in (
        ("search page /registry", "/registry?"),
        ("search API", "/api/v1/holders?"),
    ):
        samples, errors = time_paths(client, [prefix + s for s in searches], runs, len(searches))
        figures.append((label, samples, errors, SEARCH_TARGET))
    for label, prefix in (("entry page", "/registry/"), ("entry API", "/api/v1/holders/")):
        samples, errors = time_paths(client, [prefix + n for n in numbers], len(numbers), 10)
        figures.append((label, samples, errors, ENTRY_TARGET))
    rows = []
    for label, samples, errors, target in figures:
        stats = Stats.of(samples)
        verdict = target.verdict(stats.p95) if not errors else "MISS"
        rows.append(
            (
                label,
                database.label,
                ms(stats.median),
                ms(stats.p95),
                ms(stats.p99),
                stats.n,
                errors,
                f"p95 {target}",
                verdict,
            )
        )
        summary.add(f"{label} p95", database.label, f"{ms(stats.p95)} ms", str(target), verdict)
    print_table(
        f"In process ({database.label}), milliseconds",
        ("operation", "database", "median", "p95", "p99", "n", "errors", "target", "result"),
        rows,
    )
    by_kind(queries, service)
    return queries


# -- over HTTP ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    """What one load run did."""

    tool: str
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p99_ms: float

    @property
    def per_second(self) -> float:
        """Requests per second."""
        return self.requests / self.seconds if self.seconds else math.nan


@contextmanager
def gunicorn(database: Database) -> Iterator[int]:
    """gunicorn with 2 workers serving `bench.hello_app:app` on a free port; yields the port."""
    port = free_port()
    log = DATA / f"gunicorn-{database.label}.log"
    command = [
        str(BIN / "gunicorn"),
        *("--workers", "2", "--bind", f"127.0.0.1:{port}", "--chdir", str(ROOT)),
        *("--graceful-timeout", "5", "--timeout", "60"),
        "bench.hello_app:app",
    ]
    with log.open("w", encoding="utf-8") as output:
        process = subprocess.Popen(  # noqa: S603 - our own venv's gunicorn, fixed arguments
            command, cwd=ROOT, env=database.env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                tail = log.read_text(encoding="utf-8")[-3000:]
                raise RuntimeError(f"gunicorn stopped (see {relative(log)}):\n{tail}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", HELLO_PATH)
                if connection.getresponse().status == 200:
                    connection.close()
                    break
                connection.close()
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer in 60 s (see {relative(log)})")
            time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wrk_ms(output: str, percent: str) -> float:
    found = re.search(rf"^\s*{percent}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
    if not found:
        return math.nan
    value, unit = float(found.group(1)), found.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def wrk_load(wrk: str, port: int, paths: Sequence[str], seconds: int, connections: int) -> Load:
    """Drive `paths` in rotation with wrk (one thread) for `seconds`."""
    lines = ",\n".join(json.dumps(path) for path in paths)
    script = (
        f"local paths = {{\n{lines}\n}}\nlocal i = 0\n"
        "request = function()\n  i = i % #paths + 1\n"
        '  return wrk.format("GET", paths[i])\nend\n'
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        completed = subprocess.run(  # noqa: S603 - the wrk found on PATH, fixed arguments
            [
                wrk,
                "-t1",
                f"-c{connections}",
                f"-d{seconds}s",
                "--latency",
                "-s",
                handle.name,
                f"http://127.0.0.1:{port}",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        os.unlink(handle.name)
    output = completed.stdout + completed.stderr
    done = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)", output)
    if completed.returncode != 0 or not done:
        raise RuntimeError(f"wrk failed:\n{output}")
    elapsed = float(done.group(2)) * {"ms": 0.001, "s": 1.0, "m": 60.0}[done.group(3)]
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    socket_errors = re.search(r"connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if socket_errors:
        # gunicorn's sync workers close the connection after each answer; wrk counts the close
        # it reads as a "read" error although the answer was whole: only the others count.
        errors += sum(int(socket_errors.group(n)) for n in (1, 3, 4))
    return Load(
        "wrk", int(done.group(1)), elapsed, errors, _wrk_ms(output, "50"), _wrk_ms(output, "99")
    )


def python_load(port: int, paths: Sequence[str], seconds: int, connections: int) -> Load:
    """Drive `paths` in rotation from `connections` threads with http.client for `seconds`."""
    deadline = time.monotonic() + seconds

    def worker(index: int) -> tuple[list[float], int]:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        latencies: list[float] = []
        errors = 0
        number = index
        while time.monotonic() < deadline:
            path = paths[number % len(paths)]
            number += connections
            start = time.perf_counter()
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    errors += 1
            except (OSError, http.client.HTTPException):
                errors += 1
                connection.close()
            latencies.append((time.perf_counter() - start) * 1000)
        connection.close()
        return latencies, errors

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=connections) as pool:
        results = list(pool.map(worker, range(connections)))
    elapsed = time.perf_counter() - started
    latencies = [value for samples, _ in results for value in samples]
    stats = Stats.of(latencies)
    return Load(
        "python", len(latencies), elapsed, sum(e for _, e in results), stats.median, stats.p99
    )


def over_http(
    database: Database, queries: Sequence[Query], options: argparse.Namespace, summary: Summary
) -> None:
    """Requests per second of the search page and of hello-world in the same gunicorn."""
    words = [q.filters.q for q in queries if q.filters.q]
    search_paths = ["/registry?" + urllib.parse.urlencode({"q": word}) for word in words]
    wrk = None if options.python_load else shutil.which("wrk")
    tool = "wrk" if wrk else "python (http.client threads)"
    print(
        f"\n  HTTP: gunicorn, 2 workers; {tool}, {options.connections} connections, "
        f"{options.duration} s per endpoint ({len(search_paths)} search words in rotation)",
        flush=True,
    )

    def drive(paths: Sequence[str], seconds: int) -> Load:
        if wrk:
            return wrk_load(wrk, port, paths, seconds, options.connections)
        return python_load(port, paths, seconds, options.connections)

    with gunicorn(database) as port:
        drive([HELLO_PATH], 2)  # warm-up: both workers import, compile templates, connect
        drive(search_paths, 2)
        results = {
            "hello-world /bench/hello": drive([HELLO_PATH], options.duration),
            "search page /registry?q=": drive(search_paths, options.duration),
        }
    rows = [
        (
            label,
            database.label,
            load.tool,
            f"{load.per_second:,.0f}",
            ms(load.p50_ms),
            ms(load.p99_ms),
            load.requests,
            load.errors,
        )
        for label, load in results.items()
    ]
    print_table(
        f"HTTP ({database.label})",
        ("endpoint", "database", "tool", "req/s", "p50 ms", "p99 ms", "requests", "errors"),
        rows,
    )
    hello, search = results.values()
    ratio = search.per_second / hello.per_second if hello.per_second else math.nan
    verdict = RATIO_TARGET.verdict(ratio)
    print(f"  search / hello-world: {ratio:.3f} (target {RATIO_TARGET}): {verdict}")
    summary.add("HTTP hello-world", database.label, f"{hello.per_second:,.0f} req/s")
    summary.add("HTTP search page", database.label, f"{search.per_second:,.0f} req/s")
    summary.add("HTTP search / hello", database.label, f"{ratio:.3f}", str(RATIO_TARGET), verdict)


# -- open data ---------------------------------------------------------------------------------


def open_data(database: Database, summary: Summary) -> None:
    """Time `open-data export` into a temporary folder and read its peak memory."""
    try:
        module = importlib.import_module("register.open_data")
        module.export  # noqa: B018 - is it there yet?
    except (ImportError, AttributeError) as error:
        print(
            f"\n  Open data export skipped: register.open_data.export is not importable ({error})."
        )
        summary.add("open data export", database.label, "skipped (not importable)")
        return
    print("\n  Open data export…", flush=True)
    with (
        tempfile.TemporaryDirectory(prefix="bench-open-data-") as folder,
        tempfile.TemporaryFile("w+", encoding="utf-8") as output,
    ):
        command = [str(BIN / "flask"), "--app", "register", "open-data", "export", "--out", folder]
        started = time.perf_counter()
        process = subprocess.Popen(  # noqa: S603 - our own venv's flask, fixed arguments
            command, cwd=ROOT, env=database.env, stdout=output, stderr=subprocess.STDOUT
        )
        # wait4 reaps this one child and gives its own resource usage (peak RSS in KiB).
        _pid, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        output.seek(0)
        text = output.read()
        sizes = sum(path.stat().st_size for path in Path(folder).iterdir() if path.is_file())
    for line in text.strip().splitlines()[-5:]:
        print(f"    {line}")
    if process.returncode != 0:
        print(f"  Open data export FAILED (exit {process.returncode}).")
        summary.add("open data export", database.label, "FAILED", str(EXPORT_TIME_TARGET), "MISS")
        return
    megabytes = usage.ru_maxrss / 1024
    rows = [
        (
            "open data export",
            database.label,
            f"{seconds:.1f} s",
            str(EXPORT_TIME_TARGET),
            EXPORT_TIME_TARGET.verdict(seconds),
        ),
        (
            "open data peak RSS",
            database.label,
            f"{megabytes:.0f} MB",
            str(EXPORT_MEMORY_TARGET),
            EXPORT_MEMORY_TARGET.verdict(megabytes),
        ),
    ]
    print_table(
        f"Open data ({database.label}; {sizes / 1e6:,.1f} MB of files)",
        ("what", "database", "figure", "target", "result"),
        rows,
    )
    for row in rows:
        summary.add(*row)


# -- main --------------------------------------------------------------------------------------


def run(database: Database, options: argparse.Namespace, summary: Summary) -> None:
    """Every figure on one database."""
    print(f"\n== {database.label}: {database.shown}", flush=True)
    entries = ensure_holders(database, options.holders, options.seed, summary)
    print(f"  {entries:,} entries in the register.", flush=True)
    app = database.app()
    try:
        queries = in_process(app, database, options, summary)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    if "http" not in options.skip:
        over_http(database, queries, options, summary)
    if "open-data" not in options.skip:
        open_data(database, summary)


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the options and run on each database."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--holders", type=int, default=1_200_000, help="size of the register")
    parser.add_argument("--seed", type=int, default=1, help="generator and sampling seed")
    parser.add_argument("--only", choices=("sqlite", "postgresql"), help="one database only")
    parser.add_argument(
        "--queries", type=int, default=100, help="searches timed per operation (round the list)"
    )
    parser.add_argument("--entries", type=int, default=200, help="random entries to open")
    parser.add_argument("--duration", type=int, default=15, help="seconds of load per endpoint")
    parser.add_argument("--connections", type=int, default=8, help="concurrent HTTP connections")
    parser.add_argument(
        "--python-load", action="store_true", help="use the Python load generator even with wrk"
    )
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=("http", "open-data"),
        help="leave out a part (repeatable), e.g. to time search alone",
    )
    options = parser.parse_args(argv)
    summary = Summary()
    chosen = databases(options.only, f"register-{options.holders}", POSTGRES_NAME)
    failures: list[str] = []
    for database in chosen:
        try:
            run(database, options, summary)
        except RuntimeError as error:
            print(f"\n  {database.label}: stopped: {error}")
            summary.add("(run)", database.label, "FAILED: see above")
            failures.append(database.label)
    summary.print(f"Summary: public register, {options.holders:,} holders")
    if failures:
        sys.exit(f"Failed on: {', '.join(failures)}")


if __name__ == "__main__":
    main()

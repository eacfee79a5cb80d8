# ruff: noqa: RUF001 - the names are Kyrgyz and Russian, in Cyrillic
"""Benchmark of the agency's review queue: `review.queue(...)` and the page `/agency/declarations`.

    .venv/bin/python bench/agency_queue.py [--declarations 100000] [--only sqlite|postgresql]
                                           [--runs 100] [--seed 1]

On the SQLite file `bench/data/queue-<declarations>.sqlite3` and the PostgreSQL database
`bench_queue` (on BENCH_POSTGRES_URL, created when missing), with `--declarations` declarations
waiting on the agency: each of its own organisation (with its head and responsible person,
every confidential field encrypted as the models would), submitted, in review or awaiting
sign-off, some assigned to the benchmark's inspector or to colleagues, some high risk, about
a quarter past their deadline. Rows are bulk-inserted with SQLAlchemy Core; a second run reuses
them (a database holding another number of declarations is made again). The declarations have
no frozen versions: the queue never reads them.

It times the service `review.queue(filters, user, page)` and the page `/agency/declarations`
(50 rows, rendered, with whatever the page decrypts) for an inspector signed in past two-factor,
with several filters and the last page, `--runs` times each: median, p95 and p99 against the
target p95 ≤ 100 ms. The page's rows also say how many SQL statements and decryptions one
page takes. Asserts nothing.
"""

from __future__ import annotations

import argparse
import functools
import random
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa
from flask import Flask

from bench.common import Database, Stats, Summary, Target, databases, ms, print_table, timed_ms
from register.crypto import fields
from register.crypto.fields import encrypt
from register.extensions import db
from register.models import (
    Declaration,
    DeclarationKind,
    DeclarationStatus,
    Organisation,
    OrganisationOrigin,
    OrganisationStatus,
    Person,
    PersonKind,
    ReferenceItem,
    Role,
    User,
)
from register.search_text import search_text
from register.services import review

TARGET = Target(100, " ms")
POSTGRES_NAME = "bench_queue"
BATCH = 2000
INSPECTOR_EMAIL = "inspector1@bench.example.kg"
INSPECTORS, SUPERVISORS = 8, 3
WORDS = (
    "Ала-Тоо",
    "Ынтымак",
    "Береке",
    "Айкөл",
    "Манас",
    "Мекен",
    "Өрнөк",
    "Үмүт",
    "Альянс",
    "Капитал",
    "Сервис",
    "Агро",
    "Строй",
    "Медиа",
    "Фарм",
    "Горизонт",
)
SURNAMES = ("Асанов", "Бакиров", "Жумабеков", "Токтогулов", "Исаков", "Осмонов", "Үсөнов")
GIVEN = ("Нурлан", "Азамат", "Эрлан", "Тилек", "Мирлан", "Бакыт")
PLACES = ("Бишкек", "Ош", "Жалал-Абад", "Каракол", "Нарын", "Өзгөн")
# Status, share of the queue: most are new or being reviewed, a few wait for a supervisor.
STATUSES = (
    (DeclarationStatus.SUBMITTED,) * 45
    + (DeclarationStatus.IN_REVIEW,) * 45
    + (DeclarationStatus.AWAITING_SIGN_OFF,) * 10
)
KINDS = (
    (DeclarationKind.INITIAL,) * 15
    + (DeclarationKind.AMENDMENT,) * 4
    + (DeclarationKind.TERMINATION,)
)


def _table(model: type) -> sa.Table:
    return cast(sa.Table, model.__table__)  # type: ignore[attr-defined]


# -- the data ----------------------------------------------------------------------------------


def _codes(list_code: str) -> list[str]:
    codes = db.session.scalars(
        sa.select(ReferenceItem.code).where(
            ReferenceItem.list_code == list_code,
            ReferenceItem.retired_at.is_(None),
            ReferenceItem.code != "other",
        )
    )
    return sorted(codes)


def make_staff() -> list[uuid.UUID]:
    """The inspectors (the benchmark's own first) and supervisors; their ids."""
    rows, ids = [], []
    for number in range(1, INSPECTORS + SUPERVISORS + 1):
        role = Role.INSPECTOR if number <= INSPECTORS else Role.SUPERVISOR
        email = f"{role.value}{number}@bench.example.kg"
        user_id = uuid.uuid4()
        name = f"{SURNAMES[number % len(SURNAMES)]} {GIVEN[number % len(GIVEN)]}"
        rows.append(
            {
                "id": user_id,
                "email_encrypted": encrypt(email, "users", "email_encrypted", user_id),
                "email_index": User.email.index_of(email),
                "full_name_encrypted": encrypt(name, "users", "full_name_encrypted", user_id),
                "role": role,
                "locale": "ru",
                "email_confirmed_at": datetime.now(UTC),
            }
        )
        ids.append(user_id)
    db.session.execute(sa.insert(_table(User)), rows)
    return ids


@dataclass
class Builder:
    """Makes one waiting declaration, its organisation and its two people, as table rows."""

    rng: random.Random
    staff: list[uuid.UUID]
    regions: list[str]
    sectors: list[str]
    legal_forms: list[str]
    ownership_forms: list[str]
    now: datetime

    def person(self) -> str:
        return f"{self.rng.choice(SURNAMES)} {self.rng.choice(GIVEN)}"

    def add(self, rows: dict[str, list[dict[str, Any]]], number: int) -> None:
        rng = self.rng
        organisation_id, declaration_id = uuid.uuid4(), uuid.uuid4()
        tin = f"0{number:013d}"
        name = f"«{rng.choice(WORDS)} {rng.choice(WORDS)}» жоопкерчилиги чектелген коому"
        place = rng.choice(PLACES)
        created = self.now - timedelta(days=rng.uniform(0, 40))
        kind = rng.choice(KINDS)
        rows["organisations"].append(
            {
                "id": organisation_id,
                "status": OrganisationStatus.UNVERIFIED
                if kind is DeclarationKind.INITIAL
                else OrganisationStatus.VERIFIED,
                "origin": OrganisationOrigin.ONLINE,
                "legal_name": name,
                "short_name": None,
                "search_name": search_text(name, None)[:800],
                "public_tin": tin,
                "legal_form_code": rng.choice(self.legal_forms),
                "ownership_form_code": rng.choice(self.ownership_forms),
                "sector_code": rng.choice(self.sectors),
                "region_code": rng.choice(self.regions),
                "legal_address": f"{place}, {rng.randint(1, 300)}",
                "phone": f"+996 555 {rng.randrange(100, 999)} {rng.randrange(100, 999)}",
                "email": f"office{number}@example.kg",
                "tin_encrypted": encrypt(tin, "organisations", "tin_encrypted", organisation_id),
                "tin_index": Organisation.tin.index_of(tin),
                "actual_address_encrypted": encrypt(
                    f"{place}, офис {rng.randint(1, 90)}",
                    "organisations",
                    "actual_address_encrypted",
                    organisation_id,
                ),
                "created_at": created,
                "updated_at": created,
            }
        )
        for kind_of_person in (PersonKind.HEAD, PersonKind.RESPONSIBLE):
            person_id = uuid.uuid4()
            responsible = kind_of_person is PersonKind.RESPONSIBLE
            pin = f"2{rng.randrange(10**13):013d}"

            def sealed(value: str | None, column: str, row: uuid.UUID = person_id) -> Any:
                return encrypt(value, "organisation_people", column, row) if value else None

            rows["organisation_people"].append(
                {
                    "id": person_id,
                    "organisation_id": organisation_id,
                    "kind": kind_of_person,
                    "consents_to_publication": False,
                    "full_name_encrypted": sealed(self.person(), "full_name_encrypted"),
                    "position_encrypted": sealed(
                        "Data protection officer" if responsible else "Director",
                        "position_encrypted",
                    ),
                    "pin_encrypted": sealed(pin if responsible else None, "pin_encrypted"),
                    "pin_index": Person.pin.index_of(pin) if responsible else None,
                    "phone_encrypted": sealed(
                        "+996 700 123 456" if responsible else None, "phone_encrypted"
                    ),
                    "email_encrypted": sealed(
                        f"dpo{number}@example.kg" if responsible else None, "email_encrypted"
                    ),
                    "created_at": created,
                    "updated_at": created,
                }
            )
        status = rng.choice(STATUSES)
        assignee = None if status is DeclarationStatus.SUBMITTED else rng.choice(self.staff)
        rows["declarations"].append(
            {
                "id": declaration_id,
                "organisation_id": organisation_id,
                "kind": kind,
                "status": status,
                "lock_version": 2 if assignee else 1,
                "filed_on_paper": rng.random() < 0.03,
                "created_by_id": None,
                "submitted_at": created,
                "decided_at": None,
                "base_version_id": None,
                "assignee_id": assignee,
                "approved_by_id": assignee
                if status is DeclarationStatus.AWAITING_SIGN_OFF
                else None,
                "high_risk": rng.random() < 0.1,
                "due_at": created + timedelta(days=30),
                "review_seconds_used": 0,
                "created_at": created,
                "updated_at": created,
            }
        )


def populate(declarations: int, seed: int) -> float:
    """Insert the staff and `declarations` waiting declarations in batches; seconds taken."""
    started = time.perf_counter()
    builder = Builder(
        random.Random(seed),
        make_staff(),
        _codes("region"),
        _codes("sector"),
        _codes("legal_form"),
        _codes("ownership_form"),
        datetime.now(UTC),
    )
    tables = [_table(model) for model in (Organisation, Person, Declaration)]
    done = 0
    while done < declarations:
        size = min(BATCH, declarations - done)
        rows: dict[str, list[dict[str, Any]]] = {str(table.name): [] for table in tables}
        for number in range(done, done + size):
            builder.add(rows, number)
        for table in tables:
            db.session.execute(sa.insert(table), rows[str(table.name)])
        db.session.commit()
        done += size
        if done % 20_000 < BATCH or done == declarations:
            seconds = time.perf_counter() - started
            print(f"    {done:>9,} declarations  {seconds:6.1f} s  {done / seconds:8,.0f}/s")
    return time.perf_counter() - started


def ensure_declarations(database: Database, declarations: int, seed: int) -> None:
    """Migrate, and insert the declarations unless the database holds exactly that many."""
    database.prepare()
    count = database.count("SELECT count(*) FROM declarations")
    if count == declarations:
        print(f"  Reusing {database.shown}: {count:,} declarations.")
        return
    if count:
        print(f"  {database.shown} holds {count:,} declarations: making it again.")
        database.recreate()
        database.prepare()
    print(f"  Inserting {declarations:,} waiting declarations into {database.shown}…", flush=True)
    app = database.app()
    with app.app_context():
        seconds = populate(declarations, seed)
        db.session.remove()
        db.engine.dispose()
    print(f"  Inserted in {seconds:.1f} s ({declarations / seconds:,.0f} declarations/s).")


# -- timing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One way of looking at the queue: its filters, page and query string."""

    label: str
    filters: review.QueueFilters
    args: str
    page: int = 1


def cases(region: str, last_page: int) -> list[Case]:
    """The filter combinations timed."""
    filters = review.QueueFilters
    return [
        Case("waiting, oldest first", filters(), ""),
        Case("in review", filters(status=DeclarationStatus.IN_REVIEW), "status=in_review"),
        Case("assigned to me", filters(assignee="me"), "assignee=me"),
        Case(
            "nobody's, newest first",
            filters(assignee="nobody", newest_first=True),
            "assignee=nobody&sort=newest",
        ),
        Case("overdue", filters(overdue=True), "overdue=y"),
        Case(
            "region, high risk",
            filters(region=region, high_risk=True),
            f"region={region}&high_risk=yes",
        ),
        Case("last page", filters(), f"page={last_page}", last_page),
    ]


@contextmanager
def counting(app: Flask) -> Iterator[dict[str, int]]:
    """Count the SQL statements and decryptions inside the block."""
    counts = {"statements": 0, "decryptions": 0}
    original = fields.decrypt_bytes

    def decrypt_bytes(*args: Any, **kwargs: Any) -> bytes:
        counts["decryptions"] += 1
        return original(*args, **kwargs)

    def statement(*_args: Any) -> None:
        counts["statements"] += 1

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", statement)
    fields.decrypt_bytes = decrypt_bytes
    try:
        yield counts
    finally:
        fields.decrypt_bytes = original
        sa.event.remove(engine, "before_cursor_execute", statement)


def run_service(case: Case, user: User) -> review.QueuePage:
    """One call of the service, its session closed afterwards."""
    try:
        return review.queue(case.filters, user, case.page)
    finally:
        db.session.remove()


def repeat(function: Callable[[], object], runs: int) -> list[float]:
    """Milliseconds of `runs` calls after 3 to warm up."""
    for _ in range(3):
        function()
    return [timed_ms(function) for _ in range(runs)]


def measure(database: Database, runs: int, summary: Summary) -> None:
    """Time every case through the service and the page; print the table."""
    app = database.app()
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email.matches(INSPECTOR_EMAIL)))
        if user is None:
            raise RuntimeError(f"no inspector {INSPECTOR_EMAIL} in {database.shown}")
        session_id = user.get_id()
        region = db.session.scalar(
            sa.select(Organisation.region_code).order_by(Organisation.id).limit(1)
        )
        first = review.queue(review.QueueFilters(), user, 1)
        db.session.remove()
    print(f"  {first.total:,} declarations waiting, {first.pages:,} pages of {review.PAGE_SIZE}.")
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True
        session["last_active"] = int(time.time())
    rows: list[tuple[object, ...]] = []
    slowest: dict[str, tuple[str, float]] = {}
    for case in cases(region or "", first.pages):
        with app.app_context():
            found = run_service(case, user)
            service = repeat(functools.partial(run_service, case, user), runs)
        path = "/agency/declarations" + (f"?{case.args}" if case.args else "")
        response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code} for the inspector")
        with counting(app) as counts:
            client.get(path)
        page = repeat(functools.partial(client.get, path), runs)
        for kind, samples, extra in (
            ("service", service, "—"),
            ("page", page, f"{counts['statements']} / {counts['decryptions']}"),
        ):
            stats = Stats.of(samples)
            verdict = TARGET.verdict(stats.p95)
            rows.append(
                (
                    f"{kind}: {case.label}",
                    database.label,
                    ms(stats.median),
                    ms(stats.p95),
                    ms(stats.p99),
                    stats.n,
                    f"{len(found.rows)} of {found.total:,}",
                    extra,
                    f"p95 {TARGET}",
                    verdict,
                )
            )
            worst = slowest.get(kind)
            if worst is None or stats.p95 > worst[1]:
                slowest[kind] = (case.label, stats.p95)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    print_table(
        f"Review queue ({database.label}), milliseconds",
        (
            "operation",
            "database",
            "median",
            "p95",
            "p99",
            "n",
            "rows",
            "SQL / decrypts",
            "target",
            "result",
        ),
        rows,
    )
    met = sum(1 for row in rows if row[-1] == "OK")
    summary.add("queue: cases within target", database.label, f"{met} of {len(rows)}")
    for kind, (label, p95) in slowest.items():
        summary.add(
            f"queue {kind}, slowest p95 ({label})",
            database.label,
            f"{ms(p95)} ms",
            str(TARGET),
            TARGET.verdict(p95),
        )


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the options and run on each database."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--declarations", type=int, default=100_000, help="waiting declarations")
    parser.add_argument("--only", choices=("sqlite", "postgresql"), help="one database only")
    parser.add_argument("--runs", type=int, default=100, help="timed runs of each case")
    parser.add_argument("--seed", type=int, default=1, help="seed of the data's choices")
    options = parser.parse_args(argv)
    summary = Summary()
    failures: list[str] = []
    for database in databases(options.only, f"queue-{options.declarations}", POSTGRES_NAME):
        print(f"\n== {database.label}: {database.shown}", flush=True)
        try:
            ensure_declarations(database, options.declarations, options.seed)
            measure(database, options.runs, summary)
        except RuntimeError as error:
            print(f"\n  {database.label}: stopped: {error}")
            summary.add("(run)", database.label, "FAILED: see above")
            failures.append(database.label)
    summary.print(f"Summary: review queue, {options.declarations:,} waiting declarations")
    if failures:
        sys.exit(f"Failed on: {', '.join(failures)}")


if __name__ == "__main__":
    main()

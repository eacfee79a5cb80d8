"""Benchmark of the inspection plan: registered holders ranked by risk score, at register scale.

    .venv/bin/python bench/inspection_plan.py [--holders 1200000] [--only sqlite|postgresql]
                                              [--runs 20] [--incidents 20000] [--seed 1]

On the public benchmark's register (`bench/data/register-<holders>.sqlite3` and the PostgreSQL
database `bench_register`, made by `bench/public.py`; this script migrates them to the head,
which fills `register_entries.max_subjects` once). It adds, once, synthetic history for the
score's other terms: `--incidents` breach reports, a quarter as many upheld complaints, and a
tenth as many closed inspections, each with a violation whose order is still open, spread over
random holders. It then times `inspection_plan.plan(...)`, 50 rows of a ranking of every
registered holder computed in SQL, without filters, by region, by sector and a later page,
and `risk_for` (one holder's score explained), `--runs` times each: median, p95 and p99.
The issue names no target for the plan; the table shows 1 s, a supervisor's page. Asserts
nothing.
"""

from __future__ import annotations

import argparse
import random
import sys
import uuid
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa

from bench.common import Database, Stats, Summary, Target, databases, ms, print_table, timed_ms
from register.database import utcnow
from register.extensions import db
from register.models import (
    BreachReport,
    Complaint,
    ComplaintStatus,
    EntryStatus,
    Inspection,
    InspectionKind,
    InspectionOrder,
    InspectionStatus,
    InspectionViolation,
    OrderStatus,
    RegisterEntry,
)
from register.services import inspection_plan

TARGET = Target(1000, " ms")
POSTGRES_NAME = "bench_register"
MARK = "I-BNCH-"  # the synthetic inspections' references begin with it


def _entries(count: int, rng: random.Random) -> list[uuid.UUID]:
    """`count` organisation ids of registered entries, drawn between the smallest and largest id."""
    # By ORDER BY: PostgreSQL has no min() of a uuid.
    low = db.session.scalar(sa.select(RegisterEntry.id).order_by(RegisterEntry.id).limit(1))
    high = db.session.scalar(sa.select(RegisterEntry.id).order_by(RegisterEntry.id.desc()).limit(1))
    if low is None or high is None:
        return []
    found = []
    for _ in range(count):
        pivot = uuid.UUID(int=rng.randint(low.int, high.int))
        organisation = db.session.scalar(
            sa.select(RegisterEntry.organisation_id)
            .where(RegisterEntry.id >= pivot)
            .order_by(RegisterEntry.id)
            .limit(1)
        )
        if organisation is not None:
            found.append(organisation)
    return found


def ensure_history(incidents: int, rng: random.Random) -> int:
    """Breach reports, upheld complaints and inspections with open orders, made once."""
    made = int(
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Inspection)
            .where(Inspection.reference.like(f"{MARK}%"))
        )
        or 0
    )
    if made:
        return made
    now = utcnow()
    print(
        f"  adding {incidents:,} breach reports, {incidents // 4:,} upheld complaints, "
        f"{incidents // 10:,} inspections …",
        flush=True,
    )
    holders = _entries(incidents // 2, rng)
    for number in range(incidents):
        detected = now - timedelta(days=rng.randint(1, 5 * 365))
        report = BreachReport(
            id=uuid.uuid4(),
            organisation_id=rng.choice(holders),
            detected_at=detected,
            occurred_at=detected - timedelta(hours=3),
            filed_at=detected + timedelta(hours=24),
            report_due_at=detected + timedelta(hours=72),
            triage_due_at=detected + timedelta(days=5),
            nature_codes=["confidentiality"],
        )
        report.description, report.contact_name = "Synthetic breach", "Bench"
        db.session.add(report)
        if number % 4 == 0:
            complaint = Complaint(
                id=uuid.uuid4(),
                receipt_number=f"C-B{number:08d}",
                access_token_hash=uuid.uuid4().hex * 2,
                status=ComplaintStatus.UPHELD,
                organisation_id=rng.choice(holders),
                received_at=detected,
                due_at=detected + timedelta(days=14),
                decided_at=detected + timedelta(days=10),
            )
            complaint.what_happened, complaint.complainant_name = "Synthetic", "Bench"
            db.session.add(complaint)
        if number % 10 == 0:
            closed = detected + timedelta(days=30)
            inspection = Inspection(
                id=uuid.uuid4(),
                reference=f"{MARK}{number:08d}"[:20],
                organisation_id=rng.choice(holders),
                kind=InspectionKind.PLANNED,
                status=InspectionStatus.CLOSED,
                legal_ground="Synthetic plan",
                planned_start=closed.date() - timedelta(days=20),
                planned_end=closed.date() - timedelta(days=10),
                closed_at=closed,
            )
            db.session.add(inspection)
            db.session.flush()
            violation = InspectionViolation(
                id=uuid.uuid4(), inspection_id=inspection.id, article_code="art_30"
            )
            violation.description = "Synthetic"
            db.session.add(violation)
            db.session.flush()
            order = InspectionOrder(
                id=uuid.uuid4(),
                inspection_id=inspection.id,
                organisation_id=inspection.organisation_id,
                number=1,
                violation_id=violation.id,
                due_on=date.today(),
                status=OrderStatus.OPEN if number % 20 == 0 else OrderStatus.ACCEPTED,
            )
            order.requirement = "Synthetic"
            db.session.add(order)
        if number % 2000 == 1999:
            db.session.commit()
    db.session.commit()
    if db.session.get_bind().dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for table in (
                "breach_reports",
                "complaints",
                "inspections",
                "inspection_violations",
                "inspection_orders",
            ):
                connection.exec_driver_sql(f"VACUUM ANALYZE {table}")
    else:
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
    return incidents // 10


def run(database: Database, options: argparse.Namespace, summary: Summary) -> None:
    """Time the plan on one database."""
    print(f"\n== {database.label}: {database.shown}", flush=True)
    entries = database.count("SELECT count(*) FROM register_entries")
    if not entries:
        raise RuntimeError("no register here: run bench/public.py first")
    print(f"  {entries:,} entries; migrating to the head (fills max_subjects once) …", flush=True)
    database.prepare()
    app = database.app()
    rng = random.Random(options.seed)
    rows = []
    try:
        with app.test_request_context():
            made = ensure_history(options.incidents, rng)
            if db.session.get_bind().dialect.name == "postgresql":
                # As autovacuum would in production: the count reads the status index only.
                db.session.commit()
                with db.engine.connect().execution_options(
                    isolation_level="AUTOCOMMIT"
                ) as connection:
                    connection.exec_driver_sql("VACUUM ANALYZE register_entries")
            print(f"  {made:,} synthetic inspections in the history.", flush=True)
            region = db.session.scalar(sa.select(RegisterEntry.region_code).limit(1))
            sector = db.session.scalar(sa.select(RegisterEntry.sector_code).limit(1))
            cases = {
                "plan, page 1": inspection_plan.PlanFilters(),
                f"plan, region {region}": inspection_plan.PlanFilters(region=region),
                f"plan, sector {sector}": inspection_plan.PlanFilters(sector=sector),
            }
            for label, filters in cases.items():
                samples = [
                    timed_ms(lambda f=filters: inspection_plan.plan(f, 1))
                    for _ in range(options.runs)
                ]
                stats = Stats.of(samples)
                rows.append(
                    (
                        label,
                        ms(stats.median),
                        ms(stats.p95),
                        ms(stats.p99),
                        str(TARGET),
                        TARGET.verdict(stats.p95),
                    )
                )
                summary.measured(label, database.label, stats.p95, " ms", TARGET)
            samples = [
                timed_ms(lambda: inspection_plan.plan(inspection_plan.PlanFilters(), 20))
                for _ in range(max(options.runs // 4, 3))
            ]
            stats = Stats.of(samples)
            rows.append(
                (
                    "plan, page 20",
                    ms(stats.median),
                    ms(stats.p95),
                    ms(stats.p99),
                    str(TARGET),
                    TARGET.verdict(stats.p95),
                )
            )
            holders = _entries(options.runs, rng)
            samples = [timed_ms(lambda h=holder: inspection_plan.risk_for(h)) for holder in holders]
            stats = Stats.of(samples)
            rows.append(
                ("risk_for one holder", ms(stats.median), ms(stats.p95), ms(stats.p99), "", "")
            )
            top = inspection_plan.plan(inspection_plan.PlanFilters(), 1).rows[:3]
            print(
                "  top of the plan: "
                + "; ".join(f"{row.entry.registration_number} {row.risk.score}" for row in top)
            )
            registered = db.session.scalar(
                sa.select(sa.func.count())
                .select_from(RegisterEntry)
                .where(RegisterEntry.status.in_([EntryStatus.REGISTERED, EntryStatus.SUSPENDED]))
            )
            print(f"  ranked over {registered:,} registered or suspended holders")
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    print_table(
        f"Inspection plan on {database.label}",
        ("operation", "median", "p95", "p99", "target (p95)", ""),
        rows,
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the options and run on each database."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--holders", type=int, default=1_200_000, help="size of the register")
    parser.add_argument("--only", choices=("sqlite", "postgresql"), help="one database only")
    parser.add_argument("--runs", type=int, default=20, help="timings per operation")
    parser.add_argument("--incidents", type=int, default=20_000, help="synthetic breach reports")
    parser.add_argument("--seed", type=int, default=1, help="sampling seed")
    options = parser.parse_args(argv)
    summary = Summary()
    for database in databases(options.only, f"register-{options.holders}", POSTGRES_NAME):
        try:
            run(database, options, summary)
        except RuntimeError as error:
            print(f"\n  {database.label}: stopped: {error}")
            summary.add("(run)", database.label, "FAILED: see above")
    summary.print(f"Summary: inspection plan, {options.holders:,} holders")


if __name__ == "__main__":
    main()

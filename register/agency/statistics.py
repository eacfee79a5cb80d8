"""Statistics for supervisors: a page of charts (SVG drawn on the server) and a CSV download.

Supervisors only: inspectors work the queues, admins keep the system, holders are outside the
agency (403). The figures are counts, no one's data, so opening them is not logged; the page
reads in a fixed number of queries whatever the size of the register.
"""

from __future__ import annotations

import csv
import io

from flask import Response, render_template, url_for
from markupsafe import Markup

from register import charts
from register.agency import blueprint
from register.database import utcnow
from register.models import Role
from register.permissions import roles_required
from register.services import register_entries, statistics
from register.services.statistics import Figure

# Characters that make a spreadsheet read a cell as a formula (labels come from reference lists).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def chart(figure: Figure) -> Markup:
    """The figure's SVG chart (columns for the months, horizontal bars otherwise)."""
    data = [
        charts.Datum(bar.label, bar.count, bar.part or 0, short=bar.short) for bar in figure.bars
    ]
    chart_id = f"chart-{figure.key.replace('_', '-')}"
    if figure.kind == "columns":
        return charts.column_chart(
            chart_id, figure.title, figure.description, data, figure.part_label
        )
    return charts.bar_chart(chart_id, figure.title, figure.description, data)


@blueprint.get("/statistics")
@roles_required(Role.SUPERVISOR)
def statistics_page() -> str:
    """Every figure as a chart with its table beside it, and a link to the CSV."""
    now = utcnow()
    figures = statistics.all_figures(now)
    return render_template(
        "agency/statistics.html",
        figures=[(figure, chart(figure)) for figure in figures],
        today=register_entries.agency_today(now),
        links=list_links(),
    )


def list_links() -> dict[tuple[str, str], str]:
    """The lists that show a category's items: (figure, code) → URL (the lists' own filters)."""
    return {
        ("overdue", "reviews"): url_for("agency.queue", overdue="y"),
        ("overdue", "breach_triage"): url_for("agency.breaches_list", overdue="y"),
        ("overdue", "complaints"): url_for("agency.complaints_list", overdue="y"),
    }


def _cell(value: str) -> str:
    return f"'{value}" if value.startswith(FORMULA_START) else value


@blueprint.get("/statistics.csv")
@roles_required(Role.SUPERVISOR)
def statistics_csv() -> Response:
    """The figures as CSV (UTF-8 with a BOM, for spreadsheets): figure, code, label, count."""
    now = utcnow()
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(statistics.CSV_HEADER)
    for figure, code, label, count in statistics.rows_for_csv(statistics.all_figures(now)):
        writer.writerow([figure, _cell(code), _cell(label), count])
    response = Response("\ufeff" + text.getvalue(), mimetype="text/csv")
    name = f"statistics-{register_entries.agency_today(now).isoformat()}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response

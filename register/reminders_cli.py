"""`flask --app register reminders send`: tell holders and staff of deadlines, once each."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from register.extensions import db

reminders_cli = AppGroup("reminders", help="Reminders of orders, reviews and triage deadlines.")


@reminders_cli.command("send")
@click.option("--dry-run", is_flag=True, help="Print what would be sent; send nothing.")
def reminders_send(dry_run: bool) -> None:
    """Write the reminders due now to the outbox (`mail send` e-mails them); safe to repeat."""
    from register.models import ReminderKind, ReminderStage
    from register.services import reminders

    outcome = reminders.send(dry_run=dry_run)
    if dry_run:
        db.session.rollback()
        for line in reminders.describe(outcome.reminders):
            click.echo(f"would send: {line}")
    else:
        db.session.commit()
    verb = "would send" if dry_run else "sent"
    for kind in ReminderKind:
        for stage in ReminderStage:
            click.echo(f"{kind.value} {stage.value}: {verb} {outcome.counts[(kind, stage)]}")
    click.echo(f"total: {verb} {sum(outcome.counts.values())}")

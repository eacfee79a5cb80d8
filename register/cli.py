"""Command-line tools: `flask --app register …`."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from register.extensions import db

dev_cli = AppGroup("dev", help="Development set-up.")
demo_cli = AppGroup("demo", help="Demonstration data.")
mail_cli = AppGroup("mail", help="E-mail delivery of notifications.")


def write_secret_file(path: Path, content: str) -> bool:
    """Create `path` exclusively with mode 0600; return False if it already exists."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(content)
    return True


@dev_cli.command("init")
def dev_init() -> None:
    """Create the development secrets under instance/ (never overwrites them)."""
    if current_app.config["REGISTER_CONFIG"] == "production":
        raise click.ClickException(
            "dev init is for development; production reads its secrets from the environment."
        )
    instance = Path(current_app.instance_path)
    created = write_secret_file(instance / "secret_key", secrets.token_urlsafe(48) + "\n")
    click.echo(
        f"{'Created' if created else 'Kept existing'} {instance / 'secret_key'} (mode 0600)."
    )


@demo_cli.command("seed")
def demo_seed() -> None:
    """Load the demonstration data (idempotent); refused in production."""
    if not current_app.config["DEMO_SEED_ALLOWED"]:
        raise click.ClickException("demo seed is refused in production.")
    from register.demo import seed

    summary = seed()
    db.session.commit()
    click.echo(summary)


@mail_cli.command("send")
@click.option("--limit", default=500, show_default=True, help="At most this many messages.")
@click.option(
    "--requeue-stuck",
    is_flag=True,
    help="Put back in the queue messages claimed over an hour ago that were never confirmed "
    "sent (they may be delivered twice).",
)
def mail_send(limit: int, requeue_stuck: bool) -> None:
    """Send the pending e-mail copies of notifications; retry failures with back-off."""
    from register.services.mail import send_pending

    report = send_pending(limit=limit, requeue_stuck=requeue_stuck)
    click.echo(
        f"sent {report.sent}, retrying later {report.retrying}, failed {report.failed}, "
        f"stuck {report.stuck}, requeued {report.requeued}"
    )
    for line in report.errors:
        click.echo(f"  {line}", err=True)


def init_app(app: Flask) -> None:
    """Attach the command groups to the app's CLI."""
    app.cli.add_command(dev_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(mail_cli)

"""Command-line tools: `flask --app register …`."""

from __future__ import annotations

import secrets
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from register.crypto.keyring import write_secret_file
from register.extensions import db

dev_cli = AppGroup("dev", help="Development set-up.")
demo_cli = AppGroup("demo", help="Demonstration data.")
mail_cli = AppGroup("mail", help="E-mail delivery of notifications.")
users_cli = AppGroup("users", help="Agency staff accounts.")
activity_cli = AppGroup("activity", help="The activity log's hash chain.")


@dev_cli.command("init")
def dev_init() -> None:
    """Create the development secrets under instance/ (never overwrites them)."""
    if current_app.config["REGISTER_CONFIG"] == "production":
        raise click.ClickException(
            "dev init is for development; production reads its secrets from the environment."
        )
    from register.crypto import keyring

    instance = Path(current_app.instance_path)
    created = write_secret_file(instance / "secret_key", secrets.token_urlsafe(48) + "\n")
    click.echo(
        f"{'Created' if created else 'Kept existing'} {instance / 'secret_key'} (mode 0600)."
    )
    keys_file = Path(current_app.config["REGISTER_KEYS_FILE"])
    made = keyring.create_file(keys_file)
    click.echo(f"{'Created' if made else 'Kept existing'} {keys_file} (mode 0600).")


@demo_cli.command("seed")
def demo_seed() -> None:
    """Load the demonstration data (idempotent); refused in production."""
    if not current_app.config["DEMO_SEED_ALLOWED"]:
        raise click.ClickException("demo seed is refused in production.")
    from register.demo import seed

    summary = seed()
    db.session.commit()
    click.echo(summary)


@demo_cli.command("generate")
@click.option("--holders", type=click.IntRange(1, 5_000_000), required=True, help="How many.")
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same register.")
@click.option("--batch", type=click.IntRange(100, 50_000), default=2000, show_default=True)
def demo_generate(holders: int, seed: int, batch: int) -> None:
    """Add a synthetic register of published holders (benchmarks); refused in production."""
    if not current_app.config["DEMO_SEED_ALLOWED"]:
        raise click.ClickException("demo generate is refused in production.")
    from register.generator import generate

    def progress(done: int, seconds: float) -> None:
        if done % 50_000 < batch or done == holders:
            click.echo(f"  {done:>9,} holders  {seconds:7.1f} s  {done / seconds:8,.0f}/s")

    result = generate(holders, seed, batch_size=batch, progress=progress)
    click.echo(
        f"Generated {result.holders:,} holders ({result.rows:,} rows) in {result.seconds:.1f} s: "
        f"{result.per_second:,.0f} holders/s."
    )


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


@users_cli.command("create")
@click.option("--email", required=True, help="The staff member's work e-mail address.")
@click.option(
    "--role", required=True, type=click.Choice(["inspector", "supervisor", "admin"]), help="Role."
)
@click.option("--name", "full_name", default=None, help="Full name (default: the e-mail's name).")
@click.option(
    "--password",
    default=None,
    help="Set this password now. Without it, an invitation link to choose one is e-mailed.",
)
@click.option("--locale", default="ru", type=click.Choice(["ky", "ru", "en"]))
def users_create(
    email: str, role: str, full_name: str | None, password: str | None, locale: str
) -> None:
    """Create an inspector, supervisor or admin; they enrol two-factor at first sign-in."""
    from register.models import Role
    from register.services.accounts import AccountError
    from register.services.passwords import password_problems
    from register.services.staff import create_staff

    if password is not None:
        problems = password_problems(password, email)
        if problems:
            raise click.ClickException(" ".join(problems))
    try:
        user = create_staff(
            email,
            full_name or email.split("@", 1)[0],
            Role(role),
            password=password,
            locale=locale,
        )
    except AccountError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    how = "password set" if password else "invitation link queued (run `mail send`)"
    click.echo(f"Created {role} {user.email} ({how}); two-factor enrolment at first sign-in.")


@activity_cli.command("verify")
@click.option(
    "--checkpoint",
    "against",
    nargs=2,
    type=(int, str),
    default=None,
    metavar="SEQ HASH",
    help="A head printed earlier by `activity checkpoint`: the chain must still hold it.",
)
def activity_verify(against: tuple[int, str] | None) -> None:
    """Recompute the activity chain; print OK or the first broken entry (exit status 1)."""
    from register.database import write_intent
    from register.services.activity import Checkpoint, verify

    # Read only: on SQLite the check then never holds the write lock while it reads.
    with write_intent(False):
        result = verify(db.session, against=Checkpoint(*against) if against else None)
        db.session.rollback()
    if not result.ok:
        click.echo(f"BROKEN at entry {result.first_broken_seq}: {result.reason}")
        raise SystemExit(1)
    click.echo(f"OK: {result.checked} entries, head {result.head.seq} {result.head.hash}")


@activity_cli.command("checkpoint")
def activity_checkpoint() -> None:
    """Print the chain's head (seq, hash) and the time: keep it outside the database."""
    from register.database import utcnow, write_intent
    from register.services.activity import checkpoint

    with write_intent(False):
        head = checkpoint(db.session)
        db.session.rollback()
    click.echo(f"{head.seq} {head.hash} {utcnow().isoformat(timespec='seconds')}")


def init_app(app: Flask) -> None:
    """Attach the command groups to the app's CLI."""
    app.cli.add_command(dev_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(mail_cli)
    app.cli.add_command(users_cli)
    from register.keys_cli import keys_cli

    app.cli.add_command(keys_cli)
    app.cli.add_command(activity_cli)
    from register.holders_import import holders_cli
    from register.open_data import open_data_cli

    app.cli.add_command(open_data_cli)
    app.cli.add_command(holders_cli)
    from register.reminders_cli import reminders_cli

    app.cli.add_command(reminders_cli)

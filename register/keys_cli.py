"""`flask --app register keys …`: generate, status, rotate, reencrypt, verify, retire.

The work is done in register.crypto.rotation; these commands parse options and print. Nothing
here ever prints a key. Production cannot load the app before its key file exists, so the
first key file is made with `python -m register.keys_cli generate --out FILE`.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar, cast

import click
from flask import current_app
from flask.cli import AppGroup

from register.crypto import keyring, rotation
from register.crypto.datakeys import DataKey, DataKeyManager
from register.crypto.errors import CryptoError, DecryptionError
from register.database import utcnow
from register.extensions import db

keys_cli = AppGroup("keys", help="Encryption keys: key file, data keys, rotation.")
F = TypeVar("F", bound=Callable[..., Any])


def crypto_errors(command: F) -> F:
    """Report the crypto layer's errors (missing key file, refusals) in one line, exit 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except rotation.RetireRefused as refusal:
            raise click.ClickException(f"refused: {refusal}") from None
        except CryptoError as error:
            raise click.ClickException(str(error)) from None

    return cast(F, wrapper)


def key_manager() -> DataKeyManager:
    """The app's data-key manager."""
    manager: DataKeyManager = current_app.extensions["crypto"]
    return manager


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else f"{moment:%Y-%m-%d %H:%M:%S}"


def _key_label(key_id: rotation.KeyId) -> str:
    return "(malformed header)" if key_id is None else str(key_id)


def _write_key_file(path: Path) -> None:
    made = keyring.create_file(path)
    if made is None:
        raise click.ClickException(f"{path} already exists; it was not changed.")
    click.echo(f"Created {path} (mode 0600).")
    click.echo(f"Key-encryption key: {made.active_kek_id}")


@keys_cli.command("generate")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the new key file (default: REGISTER_KEYS_FILE). It must not exist.",
)
def generate(out: Path | None) -> None:
    """Write a new key file: one key-encryption key, the blind-index key and the audit key."""
    _write_key_file(out or Path(current_app.config["REGISTER_KEYS_FILE"]))


@keys_cli.command("status")
@crypto_errors
def status() -> None:
    """Show the key-encryption keys, the data keys and how many values each protects."""
    manager = key_manager()
    ring = keyring.load(manager.keyring.path)
    click.echo(f"Key file {ring.path}: {len(ring.key_encryption_keys)} key-encryption key(s)")
    for kek_id in sorted(ring.key_encryption_keys):
        click.echo(f"  {kek_id}{'  active' if kek_id == ring.active_kek_id else ''}")
    counts = rotation.count_values_by_key(db.session)
    totals = rotation.total_by_key(counts)
    rows = db.session.scalars(db.select(DataKey).order_by(DataKey.created_at)).all()
    click.echo(f"Data keys: {len(rows)}")
    for row in rows:
        missing = "" if row.kek_id in ring.key_encryption_keys else " (KEK NOT IN THE KEY FILE)"
        click.echo(
            f"  {row.id}  {'active  ' if row.is_active else 'inactive'}"
            f"  wrapped by {row.kek_id}{missing}  created {_when(row.created_at)}"
            f"  activated {_when(row.activated_at)}  deactivated {_when(row.deactivated_at)}"
            f"  values {totals.get(row.id, 0)}"
        )
    known = {row.id for row in rows}
    for key_id, number in sorted(totals.items(), key=lambda item: str(item[0])):
        if key_id not in known:
            click.echo(f"  {_key_label(key_id)}  UNKNOWN DATA KEY  values {number}")
    click.echo(f"Stored values: {sum(totals.values())}")
    for (table, column), tally in sorted(counts.items()):
        click.echo(f"  {table}.{column}: {sum(tally.values())}")


@keys_cli.command("rotate")
@click.option("--kek", "rotate_kek", is_flag=True, help="Add a new key-encryption key.")
@click.option("--data", "rotate_data", is_flag=True, help="Make a new data key active.")
@click.option(
    "--if-missing", is_flag=True, help="With --data: only when there is no active data key yet."
)
@crypto_errors
def rotate(rotate_kek: bool, rotate_data: bool, if_missing: bool) -> None:
    """Rotate keys: --kek re-wraps the data keys under a new KEK; --data makes a new data key."""
    if rotate_kek == rotate_data:
        raise click.UsageError("say what to rotate: --kek or --data")
    if if_missing and rotate_kek:
        raise click.UsageError("--if-missing goes with --data")
    manager = key_manager()
    if rotate_kek:
        kek_id, rewrapped = rotation.rotate_kek(db.session, manager)
        click.echo(
            f"Key-encryption key {kek_id} added to {manager.keyring.path} and active;"
            f" {rewrapped} data key(s) re-wrapped. No stored value was changed."
        )
        return
    row, created = rotation.rotate_data(db.session, manager, if_missing=if_missing)
    if not created:
        click.echo(f"Active data key {row.id} kept.")
        return
    click.echo(f"Data key {row.id} is now active (wrapped by {row.kek_id}).")
    click.echo("Run `keys reencrypt` to move the stored values to it.")


def _print_failures(failures: list[DecryptionError], total: int) -> None:
    for error in failures:
        click.echo(
            f"  FAILED {error.table}.{error.column} row {error.row_id}"
            f" (data key {error.key_id or 'unknown'}): {error.reason}",
            err=True,
        )
    if total > len(failures):
        click.echo(f"  … and {total - len(failures)} more", err=True)


@keys_cli.command("reencrypt")
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(min=1))
@crypto_errors
def reencrypt(batch_size: int) -> None:
    """Move every value under an older data key to the active one, in committed batches."""
    manager = key_manager()
    started = time.monotonic()

    def on_batch(progress: rotation.ReencryptProgress) -> None:
        click.echo(
            f"  {progress.table}: batch {progress.batches}, {progress.moved} value(s) moved"
            f" so far ({progress.rows} row(s) read)"
        )

    result = rotation.reencrypt(db.session, manager, batch_size=batch_size, on_batch=on_batch)
    elapsed = time.monotonic() - started
    click.echo(
        f"Re-encrypted {result.moved} value(s) under data key {result.target}"
        f" in {result.batches} batch(es), {elapsed:.1f} s."
    )
    if result.changed_meanwhile:
        click.echo(
            f"{result.changed_meanwhile} value(s) changed meanwhile and were left as written."
        )
    if result.restarts:
        click.echo(f"The active data key changed during the run; restarted {result.restarts}x.")
    _warn_if_recent(manager, result.target)
    if result.failure_count:
        _print_failures(result.failures, result.failure_count)
        raise click.ClickException(
            f"{result.failure_count} value(s) could not be decrypted and were left as they are"
        )


def _warn_if_recent(manager: DataKeyManager, key_id: uuid.UUID) -> None:
    row = db.session.get(DataKey, key_id)
    if row is None or row.activated_at is None:
        return
    settle = row.activated_at + timedelta(
        seconds=manager.active_ttl_seconds + rotation.RETIRE_MARGIN_SECONDS
    )
    if utcnow() < settle:
        click.echo(
            f"Workers may still write under the previous key until {settle:%H:%M:%S} UTC"
            " (their cached active key): run `keys reencrypt` again after that."
        )


@keys_cli.command("verify")
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(min=1))
@crypto_errors
def verify(batch_size: int) -> None:
    """Decrypt every encrypted value; count per data key; fail naming any value that does not."""
    manager = key_manager()

    def on_table(table: str, checked: int) -> None:
        click.echo(f"  {table}: {checked} value(s) checked")

    report = rotation.verify(db.session, manager, batch_size=batch_size, on_table=on_table)
    for (table, column), number in sorted(report.per_column.items()):
        click.echo(f"  {table}.{column}: {number}")
    for key_id, number in sorted(report.counts.items(), key=lambda item: str(item[0])):
        click.echo(f"  data key {_key_label(key_id)}: {number} value(s)")
    click.echo(f"Checked {report.checked} value(s); {report.failure_count} failure(s).")
    for message in report.data_key_errors:
        click.echo(f"  FAILED {message}", err=True)
    _print_failures(report.failures, report.failure_count)
    if not report.ok:
        raise click.ClickException(
            f"{report.failure_count} value(s) and {len(report.data_key_errors)} data key(s)"
            " failed verification"
        )


@keys_cli.command("retire")
@click.option("--data", "data_key", metavar="KEY_ID", help="A data key's id.")
@click.option("--kek", "kek_id", metavar="KEK_ID", help="A key-encryption key's id.")
@crypto_errors
def retire(data_key: str | None, kek_id: str | None) -> None:
    """Remove a key nothing depends on any more; refuse, saying why, otherwise."""
    if (data_key is None) == (kek_id is None):
        raise click.UsageError("say what to retire: --data KEY_ID or --kek KEK_ID")
    manager = key_manager()
    if data_key is not None:
        try:
            key_id = uuid.UUID(data_key)
        except ValueError:
            raise click.UsageError(f"{data_key!r} is not a data key id") from None
        rotation.retire_data_key(db.session, manager, key_id)
        click.echo(f"Data key {key_id} retired.")
    elif kek_id is not None:
        rotation.retire_kek(db.session, manager, kek_id)
        click.echo(f"Key-encryption key {kek_id} removed from {manager.keyring.path}.")


@click.group("keys")
def standalone() -> None:
    """Key commands that need no application (the first production key file)."""


@standalone.command("generate")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write the new key file (it must not exist).",
)
def generate_standalone(out: Path) -> None:
    """Write a new key file: one key-encryption key, the blind-index key and the audit key."""
    _write_key_file(out)


if __name__ == "__main__":
    standalone()

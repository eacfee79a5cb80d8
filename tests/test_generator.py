"""`demo generate`: a synthetic register that the app reads as its own, the same for one seed."""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa

from register import generator
from register import search_terms as register_search_terms
from register.crypto.fields import decrypt
from register.extensions import db
from register.models import (
    INDIVIDUAL_ENTREPRENEUR,
    DeclarationVersion,
    Organisation,
    PersonKind,
    RegisterEntry,
    RegisterEntryVersion,
    RegistrationSequence,
    search_terms,
)
from register.services import arrays, registry, snapshots
from register.validation import check_email, check_phone, check_pin, check_tin


def _prepared() -> None:
    generator.prepare_encryption()
    columns, processors = generator._prepare_tables(db.session.get_bind().dialect)
    generator._SHARED[:] = [
        generator._Shared(
            generator.Lists.load(), db.session.get_bind().dialect, columns, processors
        )
    ]


def _plain(batch: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    """A batch without its ciphertexts (their nonces are random by design)."""
    return {
        table: [tuple(value for value in row if not isinstance(value, bytes)) for row in rows]
        for table, rows in batch.items()
    }


def test_one_seed_gives_the_same_register(app):
    _prepared()
    plan = generator.Plan(11, 0, 40, 0, {}, 0, True)
    first, first_numbers = generator._make_batch(plan)
    second, second_numbers = generator._make_batch(plan)
    assert _plain(first) == _plain(second) and first_numbers == second_numbers
    other, _ = generator._make_batch(generator.Plan(12, 0, 40, 0, {}, 0, True))
    assert _plain(other)["organisations"] != _plain(first)["organisations"]
    # Batches fit together: a batch made later starts where the earlier one ended.
    rest, _ = generator._make_batch(generator.Plan(11, 40, 40, 0, {}, 0, True))
    names = [row for row in _plain(first)["register_entries"] + _plain(rest)["register_entries"]]
    assert len(names) == 80


def test_generated_holders_pass_the_forms_rules_and_read_as_the_apps_own(app, client):
    result = generator.generate(48, seed=5, batch_size=20, workers=0)
    assert result.holders == 48 and result.per_second > 0
    organisations = db.session.scalars(sa.select(Organisation)).all()
    assert len(organisations) == 48
    catalogue = arrays.catalogue()
    forms, regions, entrepreneurs = Counter(), set(), 0
    for organisation in organisations:
        forms[organisation.legal_form_code] += 1
        regions.add(organisation.region_code)
        if organisation.legal_form_code == INDIVIDUAL_ENTREPRENEUR:
            entrepreneurs += 1
            assert check_pin(organisation.tin) == organisation.tin
            assert organisation.public_tin is None
        else:
            assert check_tin(organisation.tin) == organisation.tin == organisation.public_tin
        responsible = organisation.person(PersonKind.RESPONSIBLE)
        head = organisation.person(PersonKind.HEAD)
        assert head is not None and head.full_name and responsible is not None
        assert check_pin(responsible.pin) == responsible.pin
        check_phone(responsible.phone)
        check_email(responsible.email)
        found = arrays.arrays_of(organisation.id)
        assert 1 <= len(found) <= 4
        for array in found:
            assert arrays.rule_errors(array, catalogue) == {}, array.name
            assert arrays.state(array, catalogue) == "completed", arrays.missing_fields(array)
    assert entrepreneurs and len(regions) > 4

    entries = db.session.scalars(sa.select(RegisterEntry)).all()
    assert len(entries) == 48
    numbers = Counter(entry.registration_number.rsplit("-", 1)[0] for entry in entries)
    assert set(numbers) == {f"PDH-{year}" for year in generator.YEARS}
    for year in generator.YEARS:
        sequences = sorted(
            int(entry.registration_number.rsplit("-", 1)[1])
            for entry in entries
            if entry.registration_number.startswith(f"PDH-{year}-")
        )
        assert sequences == list(range(1, len(sequences) + 1))  # consecutive, from 1
        last = db.session.scalar(
            sa.select(RegistrationSequence.last_value).where(RegistrationSequence.year == year)
        )
        assert last == len(sequences)
    # Versions: one to three, the entry's the latest; confidential snapshots decrypt.
    for entry in entries[:10]:
        history = db.session.scalars(
            sa.select(RegisterEntryVersion).where(RegisterEntryVersion.entry_id == entry.id)
        ).all()
        assert sorted(version.number for version in history) == list(
            range(1, entry.version_number + 1)
        )
        version = db.session.get(DeclarationVersion, entry.declaration_version_id)
        assert set(snapshots.confidential_of(version)["people"]) == {"head", "responsible"}
    # Public search finds them; entry pages render.
    word = entries[0].legal_name.split()[-1].strip("«»")
    page = registry.search(registry.Filters(q=word), limit=50)
    assert entries[0].registration_number in {entry.registration_number for entry in page.items}
    assert client.get(f"/registry/{entries[0].registration_number}").status_code == 200
    # The words table holds every word of every entry (filled in bulk), and its triggers are
    # back for whatever writes next; ids grow with the holders.
    stored_terms = {
        (term, number)
        for term, number in db.session.execute(
            sa.select(search_terms.c.term, search_terms.c.registration_number)
        )
    }
    assert stored_terms == {
        (word, entry.registration_number) for entry in entries for word in entry.search_text.split()
    }
    assert register_search_terms.triggers_present(db.session)
    ids = [row.id for row in sorted(organisations, key=lambda row: row.created_at)]
    assert len({identifier.int >> 88 for identifier in ids}) == len(ids)
    # An encrypted column is bound to its row, as the models' fields are.
    organisation = organisations[0]
    stored = db.session.execute(
        sa.select(Organisation.__table__.c.tin_encrypted).where(Organisation.id == organisation.id)
    ).scalar_one()
    assert decrypt(stored, "organisations", "tin_encrypted", organisation.id) == organisation.tin


def test_the_command_reports_holders_per_second(runner):
    result = runner.invoke(
        args=["demo", "generate", "--holders", "12", "--seed", "3", "--batch", "100"]
    )
    assert result.exit_code == 0, result.output
    assert "Generated 12 holders" in result.output and "holders/s" in result.output

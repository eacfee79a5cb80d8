# ruff: noqa: RUF001 - the names are Kyrgyz and Russian, in Cyrillic
"""A synthetic register for benchmarks: `flask --app register demo generate --holders N --seed S`.

Realistic enough to measure search and pages at national scale: names in Kyrgyz and Russian
built from common and rare words, every region and sector, 1 to 4 arrays per holder that pass the
forms' rules, a head and a responsible person with their fields encrypted, one to three
published versions each (a declaration per version), some entries suspended or struck off.
Rows are written with bulk INSERTs (no ORM objects), in batches committed as they go; the
encrypted columns are sealed exactly as the models would (same table, column and row id bound
in), and the blind indexes computed, so the app reads the data as its own. The same seed gives
the same register (ids, names, numbers and every plaintext; only encryption nonces differ).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa

from register import search_terms
from register.crypto import envelope
from register.crypto.fields import ENCRYPTED_FIELDS, manager
from register.extensions import db
from register.models import (
    Certificate,
    Declaration,
    DeclarationKind,
    DeclarationStatus,
    DeclarationVersion,
    EntryStatus,
    Organisation,
    OrganisationOrigin,
    OrganisationStatus,
    Person,
    PersonalDataArray,
    PersonKind,
    ProcessingMode,
    ReferenceItem,
    ReferenceList,
    RegisterEntry,
    RegisterEntryVersion,
    RegistrationSequence,
    RetentionUnit,
)
from register.search_text import normalise, search_text
from register.services import snapshots
from register.services.register_entries import max_subjects

INDIVIDUAL_ENTREPRENEUR = "individual_entrepreneur"
KY_WORDS = (
    "Ала-Тоо",
    "Ынтымак",
    "Береке",
    "Ырыс",
    "Айкөл",
    "Манас",
    "Нур",
    "Сапат",
    "Элдик",
    "Мекен",
    "Жаңы Заман",
    "Көк-Жар",
    "Ак-Суу",
    "Кут",
    "Тоо",
    "Эмгек",
    "Бакыт",
    "Өрнөк",
    "Үмүт",
    "Шоола",
    "Чолпон",
    "Асман",
    "Күн",
    "Бирлик",
    "Дөөлөт",
    "Жылдыз",
    "Кең-Сай",
    "Арча",
    "Тулпар",
    "Мурас",
)
RU_WORDS = (
    "Альянс",
    "Капитал",
    "Сервис",
    "Транс",
    "Агро",
    "Строй",
    "Софт",
    "Финанс",
    "Медиа",
    "Логистик",
    "Торг",
    "Инвест",
    "Технологии",
    "Консалт",
    "Энерго",
    "Фарм",
    "Мед",
    "Прогресс",
    "Гарант",
    "Восток",
    "Азия",
    "Партнёр",
    "Стандарт",
    "Лидер",
    "Вектор",
    "Меридиан",
    "Горизонт",
    "Орион",
)
PLACES = (
    "Бишкек",
    "Ош",
    "Жалал-Абад",
    "Каракол",
    "Токмок",
    "Нарын",
    "Талас",
    "Баткен",
    "Өзгөн",
    "Кара-Балта",
    "Кант",
    "Балыкчы",
    "Кара-Суу",
    "Ноокат",
    "Кызыл-Кыя",
    "Чолпон-Ата",
    "Майлуу-Суу",
)
SURNAMES = (
    "Асанов",
    "Бакиров",
    "Жумабеков",
    "Токтогулов",
    "Исаков",
    "Садыков",
    "Осмонов",
    "Абдыкадыров",
    "Кенжебаев",
    "Мамытов",
    "Шаршенов",
    "Үсөнов",
    "Өмүрбеков",
    "Сулайманов",
    "Иванов",
    "Ким",
)
GIVEN = (
    ("Айгүл", "f"),
    ("Бакыт", "m"),
    ("Нурлан", "m"),
    ("Гүлнара", "f"),
    ("Азамат", "m"),
    ("Чолпон", "f"),
    ("Эрлан", "m"),
    ("Жылдыз", "f"),
    ("Тилек", "m"),
    ("Айпери", "f"),
    ("Мирлан", "m"),
    ("Назира", "f"),
    ("Ольга", "f"),
    ("Сергей", "m"),
    ("Бегимай", "f"),
)
SYLLABLES = ("ка", "ра", "ны", "бек", "тал", "сай", "ор", "кул", "мир", "өз", "үр", "жан", "ңа")
ARRAY_NAMES = (
    "Personnel files",
    "Customers",
    "Patients' records",
    "Pupils' files",
    "Video surveillance",
    "Applicants",
    "Contractors",
    "Visitors' log",
    "Subscribers",
    "Members",
    "Payroll",
    "Клиенттер",
    "Кызматкерлердин жеке иштери",
    "Клиенты",
    "Личные дела сотрудников",
)
STATUSES = (
    (EntryStatus.REGISTERED,) * 92 + (EntryStatus.SUSPENDED,) * 5 + (EntryStatus.STRUCK_OFF,) * 3
)
VERSIONS = (1,) * 6 + (2,) * 3 + (3,)
FIRST_DAY = date(2019, 1, 10)
LAST_DAY = date(2026, 10, 31)


@dataclass
class Lists:
    """The reference codes the generator picks from (retired and "other" codes left out)."""

    codes: dict[str, list[str]]
    special_items: list[str]
    special_bases: list[str]
    bucket_bounds: dict[str, int | None]

    @classmethod
    def load(cls) -> Lists:
        """Read every list once."""
        rows = db.session.scalars(
            sa.select(ReferenceItem).where(ReferenceItem.retired_at.is_(None))
        )
        codes: dict[str, list[str]] = {}
        special_items, special_bases = [], []
        bucket_bounds: dict[str, int | None] = {}
        for item in rows:
            if item.list_code == ReferenceList.SUBJECT_BUCKET:
                bucket_bounds[item.code] = item.lower_bound
            if item.code == "other":
                continue
            codes.setdefault(item.list_code, []).append(item.code)
            if item.list_code == ReferenceList.DATA_ITEM and item.is_special_category:
                special_items.append(item.code)
            if item.list_code == ReferenceList.LEGAL_BASIS and item.valid_for_special_categories:
                special_bases.append(item.code)
        for values in codes.values():
            values.sort()
        special_items.sort()
        special_bases.sort()
        return cls(codes, special_items, special_bases, bucket_bounds)

    def __getitem__(self, list_code: str) -> list[str]:
        return self.codes[str(list_code)]


@dataclass
class Result:
    """What `generate` made, and how fast."""

    holders: int = 0
    rows: int = 0
    seconds: float = 0.0
    numbers: list[str] = field(default_factory=list)  # a sample, for benchmarks

    @property
    def per_second(self) -> float:
        """Holders generated per second."""
        return self.holders / self.seconds if self.seconds else 0.0


YEARS = tuple(range(FIRST_DAY.year, LAST_DAY.year + 1))
_SEAL: dict[tuple[str, str], Any] = {}  # (table, column) → AESGCM under the active data key
_KEY: list[uuid.UUID] = []
_PLACE: dict[tuple[str, str], bytes] = {}  # (table, column) → the associated data before the row id
_HEADER: list[bytes] = []


def prepare_encryption() -> None:
    """Derive every column key now, in this process, so generating never touches the database;
    and the constant part of each column's associated data."""
    keys = manager()
    key_id = keys.active_key_id()
    _KEY[:] = [key_id]
    header = bytes([envelope.VERSION]) + key_id.bytes
    for found in ENCRYPTED_FIELDS:
        place = (found.table, found.column)
        _SEAL[place] = keys.column_aead(key_id, found.table, found.column)
        _PLACE[place] = envelope.length_prefixed(
            envelope.FIELD_CONTEXT, header, found.table.encode(), found.column.encode()
        )
    _HEADER[:] = [header]


def encrypt(plaintext: str, table: str, column: str, row_id: uuid.UUID) -> bytes:
    """Seal a value for its table, column and row, byte for byte as `envelope.seal` does (the
    associated data's constant part computed once per column)."""
    nonce = os.urandom(envelope.NONCE_LENGTH)
    associated = _PLACE[(table, column)] + envelope.length_prefixed(str(row_id).encode())
    sealed = _SEAL[(table, column)].encrypt(nonce, plaintext.encode(), associated)
    return _HEADER[0] + nonce + sealed


@dataclass(frozen=True)
class Plan:
    """What a batch is made from: the seed, where it starts, and the register's state before."""

    seed: int
    first: int  # the global index of the batch's first holder
    size: int
    offset: int  # the global index of this run's first holder
    sequences: dict[int, int]  # year → last sequence used before this run
    rowid: int  # the last FTS rowid used before this run
    sqlite: bool


class Generator:
    """Makes one batch of holders from its own random stream (batches can run in parallel).

    What must be unique or consecutive is derived from the holder's global index, not drawn: the
    TIN, the year and sequence of the registration number, the FTS rowid. So batches made in
    any order, in any process, fit together, and the same seed gives the same register.
    """

    def __init__(self, plan: Plan, lists: Lists) -> None:
        self.plan = plan
        self.rng = random.Random(f"{plan.seed}:{plan.first}")  # noqa: S311 - data, not secrets
        self.lists = lists
        self.sqlite = plan.sqlite
        self.prefix = "PDH"
        self.index = plan.first
        self.serial = 0

    # -- small pieces ----------------------------------------------------------------------

    def new_id(self) -> uuid.UUID:
        """A UUID whose first 48 bits are the holder's index and the id's place in it.

        Ids then grow with the holders: every primary-key and foreign-key index is appended to
        instead of written all over (a random UUID per row made each insert into a large
        register a random disk write). The other 80 bits are drawn, as in any UUID v4.
        """
        self.serial += 1
        high = (self.index << 8) | (self.serial & 0xFF)
        return uuid.UUID(int=(high << 80) | self.rng.getrandbits(80), version=4)

    def day(self, start: date, end: date) -> date:
        return start + timedelta(days=self.rng.randrange(max((end - start).days, 1)))

    def moment(self, day: date) -> datetime:
        return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
            seconds=self.rng.randrange(3 * 3600, 12 * 3600)
        )

    def rare_word(self) -> str:
        word = "".join(self.rng.choice(SYLLABLES) for _ in range(self.rng.randint(2, 4)))
        return word.capitalize()

    def word(self) -> str:
        roll = self.rng.random()
        if roll < 0.45:
            return self.rng.choice(KY_WORDS)
        if roll < 0.85:
            return self.rng.choice(RU_WORDS)
        return self.rare_word()

    def person_name(self) -> tuple[str, str]:
        given, sex = self.rng.choice(GIVEN)
        surname = self.rng.choice(SURNAMES)
        if sex == "f" and surname.endswith(("ов", "ев", "ин")):
            surname += "а"
        return f"{surname} {given}", sex

    def pin(self, sex: str) -> str:
        born = self.day(date(1950, 1, 1), date(2003, 12, 31))
        return f"{1 if sex == 'f' else 2}{born:%d%m%Y}{self.rng.randrange(100000):05d}"

    def unique_pin(self, sex: str) -> str:
        """A PIN no other generated holder has: the suffix and a band of birth dates come
        from the holder's index."""
        band = self.index // 100_000
        born = date(1950, 1, 1) + timedelta(days=band * 500 + self.rng.randrange(500))
        return f"{1 if sex == 'f' else 2}{born:%d%m%Y}{self.index % 100_000:05d}"

    def unique_tin(self) -> str:
        """A legal entity's TIN no other generated holder has (the index is in it)."""
        return f"0{self.index:08d}{self.rng.randrange(100_000):05d}"

    def phone(self) -> str:
        code = self.rng.choice(("555", "700", "772", "312"))
        return f"+996 {code} {self.rng.randrange(100, 999)} {self.rng.randrange(100, 999)}"

    def names(self, legal_form: str, person: str) -> tuple[str, str | None]:
        """The legal and the short name, in Kyrgyz or Russian, by legal form."""
        first, second = self.word(), self.word()
        place = self.rng.choice(PLACES)
        kyrgyz = self.rng.random() < 0.5
        if legal_form == INDIVIDUAL_ENTREPRENEUR:
            return (
                (f"Жеке ишкер {person}", f"ЖИ {person.split()[0]}")
                if kyrgyz
                else (
                    f"Индивидуальный предприниматель {person}",
                    f"ИП {person.split()[0]}",
                )
            )
        if legal_form in ("state_institution", "municipal_institution"):
            if kyrgyz:
                return (f"{place} шаарынын «{first}» мекемеси", None)
            return (f"Государственное учреждение «{first} {place}»", f"ГУ «{first}»")
        if legal_form == "jsc":
            return (
                (f"«{first} {second}» ачык акционердик коому", f"«{first}» ААК")
                if kyrgyz
                else (f"Открытое акционерное общество «{first} {second}»", f"ОАО «{first}»")
            )
        if kyrgyz:
            return (f"«{first} {second}» жоопкерчилиги чектелген коому", f"«{first} {second}» ЖЧК")
        return (
            f"Общество с ограниченной ответственностью «{first} {second}»",
            f"ОсОО «{first} {second}»",
        )

    def pick(self, list_code: str, low: int = 1, high: int = 3) -> list[str]:
        options = self.lists[list_code]
        return sorted(self.rng.sample(options, min(len(options), self.rng.randint(low, high))))

    # -- one holder ----------------------------------------------------------------------------

    def holder(self, rows: dict[str, list[dict[str, Any]]], numbers: list[str]) -> None:
        rng, lists = self.rng, self.lists
        self.serial = 0
        organisation_id = self.new_id()
        legal_form = rng.choice([INDIVIDUAL_ENTREPRENEUR] * 3 + ["llc"] * 4 + lists["legal_form"])
        head_name, head_sex = self.person_name()
        tin = (
            self.unique_pin(head_sex)
            if legal_form == INDIVIDUAL_ENTREPRENEUR
            else self.unique_tin()
        )
        legal_name, short_name = self.names(legal_form, head_name)
        region = rng.choice(lists["region"])
        sector = rng.choice(lists["sector"])
        place = rng.choice(PLACES)
        organisation: dict[str, Any] = {
            "id": organisation_id,
            "status": OrganisationStatus.VERIFIED,
            "origin": OrganisationOrigin.ONLINE,
            "legal_name": legal_name,
            "short_name": short_name,
            "search_name": search_text(legal_name, short_name)[:800],
            "public_tin": None if legal_form == INDIVIDUAL_ENTREPRENEUR else tin,
            "legal_form_code": legal_form,
            "ownership_form_code": rng.choice(lists["ownership_form"]),
            "subordination": None,
            "sector_code": sector,
            "region_code": region,
            "legal_address": f"{place}, {rng.choice(KY_WORDS)} көчөсү, {rng.randint(1, 300)}",
            "phone": self.phone(),
            "email": f"office{rng.randrange(10**8)}@example.kg",
            "website": None,
            "created_by_id": None,
            "tin_encrypted": encrypt(tin, "organisations", "tin_encrypted", organisation_id),
            "tin_index": Organisation.tin.index_of(tin),
            "actual_address_encrypted": encrypt(
                f"{place}, офис {rng.randint(1, 90)}",
                "organisations",
                "actual_address_encrypted",
                organisation_id,
            ),
        }
        local = self.index - self.plan.offset
        year = YEARS[local % len(YEARS)]
        first_day = max(FIRST_DAY, date(year, 1, 1))
        registered_on = self.day(first_day, min(LAST_DAY, date(year, 12, 31)))
        organisation["created_at"] = organisation["updated_at"] = self.moment(registered_on)
        rows["organisations"].append(organisation)

        responsible_name, responsible_sex = (
            (head_name, head_sex) if legal_form == INDIVIDUAL_ENTREPRENEUR else self.person_name()
        )
        responsible_pin = (
            tin if legal_form == INDIVIDUAL_ENTREPRENEUR else self.pin(responsible_sex)
        )
        consent = rng.random() < 0.3
        people = {}
        for kind, name, extra in (
            (PersonKind.HEAD, head_name, None),
            (
                PersonKind.RESPONSIBLE,
                responsible_name,
                (responsible_pin, self.phone(), f"dpo{rng.randrange(10**8)}@example.kg"),
            ),
        ):
            person_id = self.new_id()
            position = "Director" if kind is PersonKind.HEAD else "Data protection officer"
            row = {
                "id": person_id,
                "organisation_id": organisation_id,
                "kind": kind,
                "consents_to_publication": consent if extra else False,
                "full_name_encrypted": encrypt(
                    name, "organisation_people", "full_name_encrypted", person_id
                ),
                "position_encrypted": encrypt(
                    position, "organisation_people", "position_encrypted", person_id
                ),
                "pin_encrypted": None,
                "pin_index": None,
                "phone_encrypted": None,
                "email_encrypted": None,
                "created_at": organisation["created_at"],
                "updated_at": organisation["created_at"],
            }
            if extra:
                pin, phone, email = extra
                row["pin_encrypted"] = encrypt(
                    pin, "organisation_people", "pin_encrypted", person_id
                )
                row["pin_index"] = Person.pin.index_of(pin)
                row["phone_encrypted"] = encrypt(
                    phone, "organisation_people", "phone_encrypted", person_id
                )
                row["email_encrypted"] = encrypt(
                    email, "organisation_people", "email_encrypted", person_id
                )
                people["responsible"] = {
                    "full_name": name,
                    "position": position,
                    "pin": pin,
                    "phone": phone,
                    "email": email,
                    "consents_to_publication": consent,
                }
            else:
                people["head"] = {"full_name": name, "position": position}
            rows["organisation_people"].append(row)

        arrays = [
            self.array(organisation_id, rows, organisation["created_at"])
            for _ in range(rng.choice((1, 1, 2, 2, 2, 3, 3, 4)))
        ]
        self.versions(organisation, people, arrays, registered_on, rows, numbers)
        self.index += 1

    def array(
        self, organisation_id: uuid.UUID, rows: dict[str, list[dict[str, Any]]], created: datetime
    ) -> dict[str, Any]:
        rng, lists = self.rng, self.lists
        array_id = self.new_id()
        items = self.pick(ReferenceList.DATA_ITEM, 2, 6)
        items = sorted((set(items) - set(lists.special_items)) | {"full_name"})
        bases = self.pick(ReferenceList.LEGAL_BASIS, 1, 2)
        if rng.random() < 0.12:
            items.append(rng.choice(lists.special_items))
            bases = sorted(set(bases) | {rng.choice(lists.special_bases)})
        cross_border = rng.random() < 0.1
        countries = sorted(
            rng.sample(["KZ", "RU", "UZ", "TR", "DE", "CN", "US"], rng.randint(1, 2))
        )
        duration = rng.random() < 0.85
        values: dict[str, Any] = {
            "name": rng.choice(ARRAY_NAMES),
            "purpose_codes": self.pick(ReferenceList.PURPOSE, 1, 2),
            "purpose_other": None,
            "legal_basis_codes": bases,
            "collection_methods": "From the person, on forms and in the information system",
            "processing_mode": rng.choice(list(ProcessingMode)),
            "data_item_codes": sorted(items),
            "data_item_other": None,
            "subject_category_codes": self.pick(ReferenceList.SUBJECT_CATEGORY, 1, 2),
            "subject_bucket_code": rng.choice(
                lists["subject_bucket"][:3] * 5 + lists["subject_bucket"]
            ),
            "source_codes": self.pick(ReferenceList.SOURCE, 1, 2),
            "informing_subjects": "Written notice when the data are collected",
            "storage_form_code": rng.choice(lists["storage_form"]),
            "retention_value": rng.choice((1, 3, 5, 10, 25, 75)) if duration else None,
            "retention_unit": rng.choice(list(RetentionUnit)) if duration else None,
            "retention_condition": None if duration else "Until the contract ends",
            "storage_country": "KG",
            "recipient_category_codes": self.pick(ReferenceList.RECIPIENT_CATEGORY, 0, 2),
            "cross_border": cross_border,
            "cross_border_countries": countries if cross_border else [],
            "security_measure_codes": self.pick(ReferenceList.SECURITY_MEASURE, 2, 4),
            "processing_start_date": self.day(date(2005, 1, 1), date(2019, 1, 1)),
        }
        secrets = {
            "storage_location_details": f"{rng.choice(PLACES)}, server room {rng.randint(1, 9)}",
            "information_systems": rng.choice(
                ("1C: Salary and HR", "MedInfo", "Bitrix24", "Excel")
            ),
            "named_recipients": "Social Fund; State Tax Service",
            "cross_border_grounds": "Contract with the subject's written consent"
            if cross_border
            else None,
            "security_description": "Personal accounts, locked archive, nightly backups",
        }
        row = {"id": array_id, "organisation_id": organisation_id, **values}
        for name, plaintext in secrets.items():
            column = f"{name}_encrypted"
            row[column] = (
                encrypt(plaintext, "personal_data_arrays", column, array_id) if plaintext else None
            )
        row["created_at"] = row["updated_at"] = created
        rows["personal_data_arrays"].append(row)
        return {"id": str(array_id), **values, **secrets}

    def snapshots(
        self, organisation: dict[str, Any], people: dict[str, Any], arrays: list[dict[str, Any]]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The public and confidential snapshots, shaped as services.snapshots builds them."""
        ie = organisation["legal_form_code"] == INDIVIDUAL_ENTREPRENEUR
        public_names = {f.name for f in snapshots.ORGANISATION_FIELDS if f.public}
        if ie:
            public_names.discard("tin")
        values = {f.name: organisation.get(f.name) for f in snapshots.ORGANISATION_FIELDS}
        values["tin"] = organisation["public_tin"]
        public: dict[str, Any] = {"organisation": {}, "people": {}, "arrays": {}}
        confidential: dict[str, Any] = {"organisation": {}, "people": {}, "arrays": {}}
        for f in snapshots.ORGANISATION_FIELDS:
            (public if f.name in public_names else confidential)["organisation"][f.name] = values[
                f.name
            ]
        confidential["people"]["head"] = people["head"]
        responsible = people["responsible"]
        shown = snapshots.CONSENT_FIELDS if responsible["consents_to_publication"] else set()
        if shown:
            public["people"]["responsible"] = {name: responsible[name] for name in sorted(shown)}
        confidential["people"]["responsible"] = {
            name: value for name, value in responsible.items() if name not in shown
        }
        public_array_names = {f.name for f in snapshots.ARRAY_FIELDS if f.public}
        special = set(self.lists.special_items)
        for array in arrays:
            flat = dict(array)
            flat["special_categories"] = bool(set(array["data_item_codes"]) & special)
            flat["retention"] = (
                {"condition": array["retention_condition"]}
                if array["retention_condition"]
                else {"value": array["retention_value"], "unit": array["retention_unit"].value}
            )
            flat["processing_mode"] = array["processing_mode"].value
            flat["processing_start_date"] = array["processing_start_date"].isoformat()
            for f in snapshots.ARRAY_FIELDS:
                target = public if f.name in public_array_names else confidential
                target["arrays"].setdefault(array["id"], {})[f.name] = flat.get(f.name)
        return public, confidential

    def versions(
        self,
        organisation: dict[str, Any],
        people: dict[str, Any],
        arrays: list[dict[str, Any]],
        registered_on: date,
        rows: dict[str, list[dict[str, Any]]],
        numbers: list[str],
    ) -> None:
        rng = self.rng
        count = rng.choice(VERSIONS)
        entry_id = self.new_id()
        year = registered_on.year
        local = self.index - self.plan.offset
        sequence = self.plan.sequences.get(year, 0) + local // len(YEARS) + 1
        number = f"{self.prefix}-{year}-{sequence:06d}"
        if local % 997 == 0:
            numbers.append(number)
        final_public, final_confidential = self.snapshots(organisation, people, arrays)
        day = registered_on
        previous_version: uuid.UUID | None = None
        for number_of_version in range(1, count + 1):
            public = final_public
            confidential = final_confidential
            if number_of_version < count:  # an earlier version: another address, longer retention
                address = f"{rng.choice(PLACES)}, {rng.randint(1, 99)}"
                public = {
                    **final_public,
                    "organisation": {**final_public["organisation"], "legal_address": address},
                    "arrays": {
                        array_id: {**values, "retention": _longer(values.get("retention"))}
                        for array_id, values in final_public["arrays"].items()
                    },
                }
            declaration_id, version_id = self.new_id(), self.new_id()
            published = self.moment(day)
            rows["declarations"].append(
                {
                    "id": declaration_id,
                    "organisation_id": organisation["id"],
                    "kind": DeclarationKind.INITIAL
                    if number_of_version == 1
                    else DeclarationKind.AMENDMENT,
                    "status": DeclarationStatus.APPROVED,
                    "lock_version": 3,
                    "filed_on_paper": False,
                    "created_by_id": None,
                    "submitted_at": published - timedelta(days=rng.randint(3, 25)),
                    "decided_at": published,
                    "base_version_id": previous_version,
                    "high_risk": False,
                    "due_at": None,
                    "review_seconds_used": 86400 * rng.randint(2, 20),
                    "created_at": published - timedelta(days=25),
                    "updated_at": published,
                }
            )
            rows["declaration_versions"].append(
                {
                    "id": version_id,
                    "organisation_id": organisation["id"],
                    "declaration_id": declaration_id,
                    "number": number_of_version,
                    "created_at": published - timedelta(days=25),
                    "created_by_id": None,
                    "public_snapshot": public,
                    "published_at": published,
                    "confidential_snapshot_encrypted": encrypt(
                        snapshots.encode(confidential),
                        "declaration_versions",
                        "confidential_snapshot_encrypted",
                        version_id,
                    ),
                }
            )
            entry_version_id = self.new_id()
            rows["register_entry_versions"].append(
                {
                    "id": entry_version_id,
                    "entry_id": entry_id,
                    "number": number_of_version,
                    "declaration_version_id": version_id,
                    "published_at": published,
                    "public_snapshot": public,
                }
            )
            previous_version = version_id
            last_public, last_published, last_entry_version = public, published, entry_version_id
            day = min(day + timedelta(days=rng.randint(30, 400)), LAST_DAY)
        status = rng.choice(STATUSES)
        arrays_public = list(last_public["arrays"].values())
        rows["register_entries"].append(
            {
                "id": entry_id,
                "organisation_id": organisation["id"],
                "registration_number": number,
                "status": status,
                "registered_on": registered_on,
                "updated_on": last_published.date(),
                "status_changed_on": None
                if status is EntryStatus.REGISTERED
                else last_published.date(),
                "version_number": count,
                "declaration_version_id": previous_version,
                "legal_name": organisation["legal_name"],
                "short_name": organisation["short_name"],
                "tin": organisation["public_tin"],
                "legal_form_code": organisation["legal_form_code"],
                "sector_code": organisation["sector_code"],
                "region_code": organisation["region_code"],
                "search_text": search_text(
                    organisation["legal_name"],
                    organisation["short_name"],
                    organisation["public_tin"],
                    number,
                ),
                "search_rowid": self.plan.rowid + local + 1 if self.sqlite else None,
                "sort_name": normalise(organisation["legal_name"])[:500],
                "cross_border": any(a.get("cross_border_countries") for a in arrays_public),
                "special_categories": any(a.get("special_categories") for a in arrays_public),
                "array_count": len(arrays_public),
                "max_subjects": max_subjects(arrays_public, self.lists.bucket_bounds),
                "public_snapshot": last_public,
                "created_at": self.moment(registered_on),
                "updated_at": last_published,
            }
        )
        rows["certificates"].append(
            {
                "id": self.new_id(),
                "code": "g" + uuid.UUID(int=rng.getrandbits(128)).hex[:23],
                "entry_id": entry_id,
                "entry_version_id": last_entry_version,
                "version_number": count,
                "issued_at": last_published,
            }
        )


def _longer(retention: dict[str, Any] | None) -> dict[str, Any] | None:
    if retention and "value" in retention:
        return {**retention, "value": retention["value"] + 1}
    return retention


# Parent tables first: the rows of a batch are inserted in this order.
TABLES: tuple[sa.Table, ...] = tuple(
    cast(sa.Table, model.__table__)
    for model in (
        Organisation,
        Person,
        PersonalDataArray,
        Declaration,
        DeclarationVersion,
        RegisterEntry,
        RegisterEntryVersion,
        Certificate,
    )
)


def _batches(total: int, size: int) -> Iterator[int]:
    while total > 0:
        yield min(size, total)
        total -= size


@dataclass
class _Shared:
    """What every batch needs, set before the worker processes fork (they inherit it)."""

    lists: Lists
    dialect: Any
    columns: dict[str, list[str]]
    processors: dict[str, list[Callable[[Any], Any] | None]]


_SHARED: list[_Shared] = []


JSON_COLUMNS = (
    "public_snapshot",
    "purpose_codes",
    "legal_basis_codes",
    "data_item_codes",
    "subject_category_codes",
    "source_codes",
    "recipient_category_codes",
    "cross_border_countries",
    "security_measure_codes",
)


def _prepare_tables(dialect: Any) -> tuple[dict[str, list[str]], dict[str, list[Any]]]:
    """Each table's columns, and the dialect's bind processors (as SQLAlchemy would apply)."""
    columns: dict[str, list[str]] = {}
    processors: dict[str, list[Any]] = {}
    for table in TABLES:
        names = [column.name for column in table.columns]
        columns[str(table.name)] = names
        processors[str(table.name)] = [
            # Bytes go to the driver as they are (SQLite's processor makes memoryviews, which
            # cannot travel between processes); JSON is serialised once per snapshot, below.
            None
            if isinstance(column.type, sa.LargeBinary | sa.JSON)
            else column.type._cached_bind_processor(dialect)
            for column in table.columns
        ]
    return columns, processors


def _make_batch(plan: Plan) -> tuple[dict[str, list[tuple[Any, ...]]], list[str]]:
    """One batch as rows ready for the driver: (table → tuples in column order), numbers."""
    shared = _SHARED[0]
    generator = Generator(plan, shared.lists)
    rows: dict[str, list[dict[str, Any]]] = {str(table.name): [] for table in TABLES}
    numbers: list[str] = []
    for _ in range(plan.size):
        generator.holder(rows, numbers)
    dumped: dict[int, str] = {}  # a snapshot shared by several rows is serialised once

    def as_json(value: Any) -> Any:
        if not isinstance(value, dict | list):
            return value
        key = id(value)
        if key not in dumped:
            dumped[key] = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        return dumped[key]

    for values in rows.values():
        for row in values:
            for column in JSON_COLUMNS:
                if column in row:
                    row[column] = as_json(row[column])
    ready: dict[str, list[tuple[Any, ...]]] = {}
    for name, values in rows.items():
        names, processors = shared.columns[name], shared.processors[name]
        pairs = list(zip(names, processors, strict=True))
        ready[name] = [
            tuple(
                process(row.get(column)) if process is not None else row.get(column)
                for column, process in pairs
            )
            for row in values
        ]
    return ready, numbers


def _write(table: sa.Table, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    """Bulk-write rows: executemany on SQLite, COPY on PostgreSQL (FTS triggers fire on SQLite)."""
    raw: Any = db.session.connection().connection.driver_connection
    names = ", ".join(f'"{column}"' for column in columns)
    if db.session.get_bind().dialect.name == "postgresql":
        with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    # Table and column names come from the models, never from input.
    raw.executemany(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", rows)  # noqa: S608


def generate(
    holders: int,
    seed: int,
    *,
    batch_size: int = 2000,
    progress: Callable[[int, float], None] | None = None,
    workers: int | None = None,
) -> Result:
    """Add `holders` synthetic published holders to the register, committed batch by batch.

    Batches are made in `workers` processes (default: one per CPU; 0 makes them here) while
    this process writes the previous ones.
    """
    started = time.perf_counter()
    bind = db.session.get_bind()
    prefix = "PDH"
    sequences = _last_sequences(prefix)
    rowid = int(db.session.scalar(sa.select(sa.func.max(RegisterEntry.search_rowid))) or 0)
    offset = int(db.session.scalar(sa.select(sa.func.count()).select_from(Organisation)) or 0)
    if bind.dialect.name == "sqlite":
        # Random UUID keys land all over every index: give SQLite a page cache that holds them
        # (1 GiB at most, for this connection only), or each insert waits on the disk cache.
        db.session.execute(sa.text("PRAGMA cache_size = -1048576"))
    prepare_encryption()
    columns, processors = _prepare_tables(bind.dialect)
    _SHARED[:] = [_Shared(Lists.load(), bind.dialect, columns, processors)]
    db.session.commit()
    plans = []
    first = offset
    for size in _batches(holders, batch_size):
        plans.append(
            Plan(seed, first, size, offset, sequences, rowid, bind.dialect.name == "sqlite")
        )
        first += size
    result = Result()
    count = os.cpu_count() or 1 if workers is None else workers
    # The words table is filled at the end in one sorted insert, not row by row by triggers.
    # A run that was killed left the triggers dropped: then every entry's words are refilled.
    repair = not search_terms.triggers_present(db.session)
    search_terms.drop_triggers(db.session)
    db.session.commit()
    pool = multiprocessing.get_context("fork").Pool(count) if count > 0 else None
    try:
        batches = pool.imap(_make_batch, plans) if pool is not None else map(_make_batch, plans)
        for plan, (ready, numbers) in zip(plans, batches, strict=True):
            for table in TABLES:
                name = str(table.name)
                if ready[name]:
                    _write(table, columns[name], ready[name])
                    result.rows += len(ready[name])
            _save_sequences(prefix, _after(sequences, plan.first + plan.size - offset))
            db.session.commit()
            result.holders += plan.size
            result.numbers.extend(numbers)
            if progress is not None:
                progress(result.holders, time.perf_counter() - started)
    finally:
        if pool is not None:
            pool.terminate()
        db.session.rollback()
        low, high = (0, 2**128 - 1) if repair else (offset << 88, (offset + holders) << 88)
        search_terms.fill(db.session, uuid.UUID(int=low), uuid.UUID(int=high))
        search_terms.create_triggers(db.session)
        db.session.commit()
    analyse()
    result.seconds = time.perf_counter() - started
    return result


def analyse() -> None:
    """Refresh the query planner's statistics after a bulk load (bounded work on SQLite)."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(sa.text("PRAGMA analysis_limit = 1000"))
    db.session.execute(sa.text("ANALYZE"))
    db.session.commit()


def _after(base: dict[int, int], done: int) -> dict[int, int]:
    """The last sequence of each year once `done` holders of this run are written."""
    last = dict(base)
    for position, year in enumerate(YEARS):
        made = (done - position + len(YEARS) - 1) // len(YEARS) if done > position else 0
        last[year] = base.get(year, 0) + made
    return last


def _last_sequences(prefix: str) -> dict[int, int]:
    """The last sequence used in each year: the stored one, or the highest number written
    (a run stopped half-way has written numbers; it saves the sequence with each batch)."""
    last = {
        int(year): int(value)
        for year, value in db.session.execute(
            sa.select(RegistrationSequence.year, RegistrationSequence.last_value).where(
                RegistrationSequence.prefix == prefix
            )
        )
    }
    number = RegisterEntry.registration_number
    year_part = sa.func.substr(number, len(prefix) + 2, 4)
    sequence_part = sa.cast(sa.func.substr(number, len(prefix) + 7), sa.Integer)
    for year, value in db.session.execute(
        sa.select(year_part, sa.func.max(sequence_part))
        .where(number.like(f"{prefix}-____-______"))
        .group_by(year_part)
    ):
        if str(year).isdigit():
            last[int(year)] = max(last.get(int(year), 0), int(value or 0))
    return last


def _save_sequences(prefix: str, sequences: dict[int, int]) -> None:
    """Move the registration-number sequences past the numbers generated."""
    table = cast(sa.Table, RegistrationSequence.__table__)
    existing = {
        int(year)
        for year in db.session.scalars(
            sa.select(RegistrationSequence.year).where(RegistrationSequence.prefix == prefix)
        )
    }
    for year, last in sequences.items():
        if year in existing:
            db.session.execute(
                sa.update(table)
                .where(table.c.prefix == prefix, table.c.year == year)
                .values(last_value=sa.func.max(table.c.last_value, last))
                if db.session.get_bind().dialect.name == "sqlite"
                else sa.update(table)
                .where(table.c.prefix == prefix, table.c.year == year)
                .values(last_value=sa.func.greatest(table.c.last_value, last))
            )
        else:
            db.session.execute(
                sa.insert(table).values(id=uuid.uuid4(), prefix=prefix, year=year, last_value=last)
            )

# ruff: noqa: RUF001 - the names and addresses are Kyrgyz and Russian, in Cyrillic
"""Demonstration organisations: holders in several sectors and regions, with their people.

Called by `register.demo.seed`. Idempotent: an organisation is found by its TIN's blind index,
and only what is missing (the organisation, one of its people, the demo holder's membership)
is created. All names, numbers and addresses are made up.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from register.extensions import db
from register.models import (
    MemberRole,
    Membership,
    Organisation,
    OrganisationOrigin,
    Person,
    PersonKind,
    ReferenceList,
    User,
)
from register.services.organisations import find_by_tin
from register.services.reference import items

DEMO_HOLDER_EMAIL = "clerk@demo.example"


@dataclass(frozen=True)
class DemoPerson:
    """A head of an organisation or a person responsible for personal data."""

    full_name: str
    position: str
    pin: str | None = None
    phone: str | None = None
    email: str | None = None
    consents_to_publication: bool = False


@dataclass(frozen=True)
class DemoOrganisation:
    """One demo holder: its public details, its two people, and whether the demo clerk owns it."""

    tin: str
    legal_name: str
    short_name: str
    legal_form_code: str
    ownership_form_code: str
    sector_code: str
    region_code: str
    legal_address: str
    actual_address: str
    phone: str
    email: str
    head: DemoPerson
    responsible: DemoPerson
    website: str | None = None
    subordination: str | None = None
    owned_by_demo_holder: bool = False


# PINs: 1 (women) or 2 (men), the birth date DDMMYYYY, five more digits. Legal entities' TINs
# start with 0; an individual entrepreneur's TIN is her PIN.
ENTREPRENEUR_PIN = "11203198500123"

DEMO_ORGANISATIONS = (
    DemoOrganisation(
        tin="01503201910231",
        legal_name="Общество с ограниченной ответственностью «Медицинский центр „Ден-Соолук“»",
        short_name="ОсОО «МЦ „Ден-Соолук“»",
        legal_form_code="llc",
        ownership_form_code="private",
        sector_code="health",
        region_code="KG-GB",
        legal_address="г. Бишкек, ул. Токтогула, 120",
        actual_address="г. Бишкек, ул. Токтогула, 120, 2-й этаж",
        phone="+996 312 661 234",
        email="info@den-sooluk.example",
        website="https://den-sooluk.example",
        head=DemoPerson("Асанов Бакыт Токтогулович", "Главный врач"),
        responsible=DemoPerson(
            "Исакова Айнура Маратовна",
            "Заведующая медицинской статистикой",
            pin="10904198200789",
            phone="+996 555 123 456",
            email="a.isakova@den-sooluk.example",
            consents_to_publication=True,
        ),
        owned_by_demo_holder=True,
    ),
    DemoOrganisation(
        tin="02209199810044",
        legal_name="«№ 5 жалпы билим берүүчү орто мектеби» муниципалдык мекемеси",
        short_name="Ош шаарындагы № 5 мектеп",
        legal_form_code="municipal_institution",
        ownership_form_code="municipal",
        sector_code="education",
        region_code="KG-GO",
        legal_address="Ош шаары, Курманжан Датка көчөсү, 45",
        actual_address="Ош шаары, Курманжан Датка көчөсү, 45",
        phone="+996 3222 5 12 34",
        email="school5@osh-edu.example",
        subordination="Ош шаарынын мэриясынын билим берүү башкармалыгы",
        head=DemoPerson("Жумабаева Гүлмира Абдыкеримовна", "Мектептин директору"),
        responsible=DemoPerson(
            "Турдубаев Нурлан Садыкович",
            "Директордун окуу иштери боюнча орун басары",
            pin="22811197501234",
            phone="+996 770 555 321",
            email="n.turdubaev@osh-edu.example",
        ),
        owned_by_demo_holder=True,
    ),
    DemoOrganisation(
        tin="01108200510078",
        legal_name="Открытое акционерное общество «Ала-Тоо Демо Банк»",
        short_name="ОАО «Ала-Тоо Демо Банк»",
        legal_form_code="jsc",
        ownership_form_code="private",
        sector_code="finance_banking",
        region_code="KG-GB",
        legal_address="г. Бишкек, пр. Чуй, 150",
        actual_address="г. Бишкек, пр. Чуй, 150",
        phone="+996 312 900 100",
        email="office@alatoo-demobank.example",
        website="https://alatoo-demobank.example",
        head=DemoPerson("Орозов Эрлан Кубанычбекович", "Председатель правления"),
        responsible=DemoPerson(
            "Ким Елена Викторовна",
            "Руководитель службы информационной безопасности",
            pin="10102199000321",
            phone="+996 700 123 456",
            email="dpo@alatoo-demobank.example",
            consents_to_publication=True,
        ),
        owned_by_demo_holder=True,
    ),
    DemoOrganisation(
        tin="02507201210015",
        legal_name="Государственное учреждение «Нарынский областной центр государственных услуг»",
        short_name="ГУ «Нарынский ЦГУ»",
        legal_form_code="state_institution",
        ownership_form_code="state",
        sector_code="public_administration",
        region_code="KG-N",
        legal_address="г. Нарын, ул. Ленина, 40",
        actual_address="г. Нарын, ул. Ленина, 40",
        phone="+996 3522 5 01 23",
        email="naryn@gov-services.example",
        subordination="Государственное агентство по оказанию государственных услуг (демо)",
        head=DemoPerson("Сыдыков Азамат Жолдошбекович", "Директор"),
        responsible=DemoPerson(
            "Мамбетова Чолпон Асылбековна",
            "Главный специалист по защите информации",
            pin="11406199100987",
            phone="+996 550 987 654",
            email="ch.mambetova@gov-services.example",
        ),
    ),
    DemoOrganisation(
        tin="01212201510092",
        legal_name="«Чүй Телеком» жоопкерчилиги чектелген коому",
        short_name="«Чүй Телеком» ЖЧК",
        legal_form_code="llc",
        ownership_form_code="mixed",
        sector_code="telecommunications",
        region_code="KG-C",
        legal_address="Чүй облусу, Кант шаары, Ленин көчөсү, 12",
        actual_address="Чүй облусу, Кант шаары, Ленин көчөсү, 12",
        phone="+996 3132 5 12 34",
        email="info@chui-telecom.example",
        website="https://chui-telecom.example",
        head=DemoPerson("Бекмуратов Руслан Эмилович", "Башкы директор"),
        responsible=DemoPerson(
            "Осмонов Тимур Бакытович",
            "Маалыматтык коопсуздук бөлүмүнүн башчысы",
            pin="21507197800456",
            phone="+996 555 402 310",
            email="t.osmonov@chui-telecom.example",
            consents_to_publication=True,
        ),
        owned_by_demo_holder=True,
    ),
    DemoOrganisation(
        tin=ENTREPRENEUR_PIN,
        legal_name="Жеке ишкер Абдыкадырова Гүлнара Токтосуновна",
        short_name="ЖИ Абдыкадырова Г. Т.",
        legal_form_code="individual_entrepreneur",
        ownership_form_code="private",
        sector_code="trade_retail",
        region_code="KG-J",
        legal_address="Жалал-Абад шаары, Токтогул көчөсү, 7",
        actual_address="Жалал-Абад шаары, борбордук базар, 3-катар, 14-дүкөн",
        phone="+996 3722 5 45 67",
        email="gulnara.shop@mail.example",
        head=DemoPerson("Абдыкадырова Гүлнара Токтосуновна", "Жеке ишкер"),
        responsible=DemoPerson(
            "Абдыкадырова Гүлнара Токтосуновна",
            "Жеке ишкер",
            pin=ENTREPRENEUR_PIN,
            phone="+996 777 310 512",
            email="gulnara.shop@mail.example",
        ),
    ),
)


def _create_organisation(demo: DemoOrganisation, owner: User | None) -> Organisation:
    organisation = Organisation(
        origin=OrganisationOrigin.ONLINE if owner is not None else OrganisationOrigin.IMPORTED,
        legal_name=demo.legal_name,
        short_name=demo.short_name,
        legal_form_code=demo.legal_form_code,
        ownership_form_code=demo.ownership_form_code,
        subordination=demo.subordination,
        sector_code=demo.sector_code,
        region_code=demo.region_code,
        legal_address=demo.legal_address,
        phone=demo.phone,
        email=demo.email,
        website=demo.website,
        created_by_id=owner.id if owner is not None else None,
    )
    organisation.set_tin(demo.tin)  # after the legal form: it decides whether the TIN is public
    organisation.actual_address = demo.actual_address
    db.session.add(organisation)
    db.session.flush()
    return organisation


def _ensure_person(organisation: Organisation, kind: PersonKind, demo: DemoPerson) -> None:
    if organisation.person(kind) is not None:
        return
    person = Person(
        organisation=organisation,
        kind=kind,
        full_name=demo.full_name,
        position=demo.position,
        pin=demo.pin,
        phone=demo.phone,
        email=demo.email,
        consents_to_publication=demo.consents_to_publication,
    )
    db.session.add(person)


def _ensure_owner(organisation: Organisation, user: User) -> None:
    exists = db.session.scalar(
        sa.select(Membership.id).where(
            Membership.organisation_id == organisation.id, Membership.user_id == user.id
        )
    )
    if exists is None:
        db.session.add(
            Membership(organisation_id=organisation.id, user_id=user.id, role=MemberRole.OWNER)
        )


def seed_organisations(demo_holder: User | None) -> list[str]:
    """Create what is missing of the demo organisations; lines describing them."""
    lines = ["Demo organisations (holders):"]
    regions = {item.code: item.label_en for item in items(ReferenceList.REGION)}
    sectors = {item.code: item.label_en for item in items(ReferenceList.SECTOR)}
    for demo in DEMO_ORGANISATIONS:
        owner = demo_holder if demo.owned_by_demo_holder else None
        organisation = find_by_tin(demo.tin) or _create_organisation(demo, owner)
        _ensure_person(organisation, PersonKind.HEAD, demo.head)
        _ensure_person(organisation, PersonKind.RESPONSIBLE, demo.responsible)
        if owner is not None:
            _ensure_owner(organisation, owner)
        region = regions.get(organisation.region_code, organisation.region_code)
        sector = sectors.get(organisation.sector_code, organisation.sector_code)
        owned = f"; owner {owner.email}" if owner is not None else ""
        lines.append(
            f"  {organisation.short_name or organisation.legal_name}: {region}, {sector}{owned}"
        )
    db.session.flush()
    return lines

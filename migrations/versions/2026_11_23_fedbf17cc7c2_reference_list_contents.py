"""reference list contents

The items of the 13 reference lists, with stable codes and Kyrgyz, Russian and English labels
(terms from /work/shared/glossary.md). The data lives here, not imported from the application,
so that this revision inserts the same rows whatever the code becomes later. Admins add, edit
and retire items afterwards; a code is never deleted.

Revision ID: fedbf17cc7c2
Revises: 9ebe74d35023
Create Date: 2026-11-23 09:00:00.000000

"""

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "fedbf17cc7c2"
down_revision = "9ebe74d35023"
branch_labels = None
depends_on = None

reference_items = sa.table(
    "reference_items",
    sa.column("id", sa.Uuid()),
    sa.column("list_code", sa.String(40)),
    sa.column("code", sa.String(40)),
    sa.column("label_ky", sa.String(300)),
    sa.column("label_ru", sa.String(300)),
    sa.column("label_en", sa.String(300)),
    sa.column("sort_order", sa.Integer()),
    sa.column("is_special_category", sa.Boolean()),
    sa.column("valid_for_special_categories", sa.Boolean()),
    sa.column("lower_bound", sa.BigInteger()),
    sa.column("upper_bound", sa.BigInteger()),
    sa.column("retired_at", sa.DateTime(timezone=True)),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)

OTHER = ("other", "Башка", "Другое", "Other")

# Each item: (code, Kyrgyz, Russian, English[, extra columns]). The order is the display order.
LISTS: dict[str, list[tuple]] = {
    "legal_form": [
        (
            "llc",
            "Жоопкерчилиги чектелген коом (ЖЧК)",
            "Общество с ограниченной ответственностью (ОсОО)",
            "Limited liability company (LLC)",
        ),
        ("jsc", "Акционердик коом (АК)", "Акционерное общество (АО)", "Joint-stock company (JSC)"),
        (
            "state_institution",
            "Мамлекеттик мекеме",
            "Государственное учреждение",
            "State institution",
        ),
        (
            "municipal_institution",
            "Муниципалдык мекеме",
            "Муниципальное учреждение",
            "Municipal institution",
        ),
        (
            "state_enterprise",
            "Мамлекеттик ишкана",
            "Государственное предприятие",
            "State enterprise",
        ),
        (
            "municipal_enterprise",
            "Муниципалдык ишкана",
            "Муниципальное предприятие",
            "Municipal enterprise",
        ),
        (
            "non_commercial",
            "Коммерциялык эмес уюм (коомдук бирикме, фонд)",
            "Некоммерческая организация (общественное объединение, фонд)",
            "Non-commercial organisation (public association, foundation)",
        ),
        (
            "individual_entrepreneur",
            "Жеке ишкер",
            "Индивидуальный предприниматель",
            "Individual entrepreneur",
        ),
        (
            "branch_or_representative",
            "Чет өлкөлүк юридикалык жактын филиалы же өкүлчүлүгү",
            "Филиал или представительство иностранного юридического лица",
            "Branch or representative office of a foreign legal entity",
        ),
        ("other", "Башка", "Другая", "Other"),
    ],
    "ownership_form": [
        ("state", "Мамлекеттик менчик", "Государственная собственность", "State"),
        ("municipal", "Муниципалдык менчик", "Муниципальная собственность", "Municipal"),
        ("private", "Жеке менчик", "Частная собственность", "Private"),
        ("mixed", "Аралаш менчик", "Смешанная собственность", "Mixed"),
        ("foreign", "Чет элдик менчик", "Иностранная собственность", "Foreign"),
        ("other", "Башка", "Другая", "Other"),
    ],
    "sector": [
        (
            "public_administration",
            "Мамлекеттик башкаруу",
            "Государственное управление",
            "Public administration",
        ),
        ("health", "Саламаттык сактоо", "Здравоохранение", "Health care"),
        ("education", "Билим берүү", "Образование", "Education"),
        (
            "finance_banking",
            "Финансы жана банк иши",
            "Финансы и банковская деятельность",
            "Finance and banking",
        ),
        ("insurance", "Камсыздандыруу", "Страхование", "Insurance"),
        (
            "telecommunications",
            "Байланыш жана телекоммуникациялар",
            "Связь и телекоммуникации",
            "Telecommunications",
        ),
        ("it", "Маалыматтык технологиялар", "Информационные технологии", "Information technology"),
        (
            "trade_retail",
            "Дүң жана чекене соода",
            "Оптовая и розничная торговля",
            "Wholesale and retail trade",
        ),
        (
            "transport",
            "Транспорт жана логистика",
            "Транспорт и логистика",
            "Transport and logistics",
        ),
        (
            "energy_utilities",
            "Энергетика жана коммуналдык кызматтар",
            "Энергетика и коммунальные услуги",
            "Energy and utilities",
        ),
        ("social_services", "Социалдык кызматтар", "Социальные услуги", "Social services"),
        (
            "housing",
            "Турак жай чарбасы жана кыймылсыз мүлк",
            "Жилищное хозяйство и недвижимость",
            "Housing and real estate",
        ),
        (
            "law_enforcement",
            "Укук коргоо иши",
            "Правоохранительная деятельность",
            "Law enforcement",
        ),
        ("judiciary", "Сот бийлиги", "Судебная власть", "Judiciary"),
        ("religious", "Диний уюмдар", "Религиозные организации", "Religious organisations"),
        (
            "hospitality_tourism",
            "Мейманканалар, тамак-аш жана туризм",
            "Гостиницы, общественное питание и туризм",
            "Hotels, catering and tourism",
        ),
        (
            "media",
            "Массалык маалымат каражаттары жана басма иши",
            "Средства массовой информации и издательское дело",
            "Media and publishing",
        ),
        ("manufacturing", "Өнөр жай", "Промышленность", "Manufacturing"),
        ("agriculture", "Айыл чарбасы", "Сельское хозяйство", "Agriculture"),
        (
            "non_profit",
            "Коммерциялык эмес жана коомдук уюмдар",
            "Некоммерческие и общественные организации",
            "Non-profit and public associations",
        ),
        ("other", "Башка", "Другое", "Other"),
    ],
    # ISO 3166-2:KG: the two cities of republican significance, then the seven regions.
    "region": [
        ("KG-GB", "Бишкек шаары", "город Бишкек", "Bishkek city"),
        ("KG-GO", "Ош шаары", "город Ош", "Osh city"),
        ("KG-B", "Баткен облусу", "Баткенская область", "Batken Region"),
        ("KG-C", "Чүй облусу", "Чуйская область", "Chüy Region"),
        ("KG-J", "Жалал-Абад облусу", "Джалал-Абадская область", "Jalal-Abad Region"),
        ("KG-Y", "Ысык-Көл облусу", "Иссык-Кульская область", "Issyk-Kul Region"),
        ("KG-N", "Нарын облусу", "Нарынская область", "Naryn Region"),
        ("KG-O", "Ош облусу", "Ошская область", "Osh Region"),
        ("KG-T", "Талас облусу", "Таласская область", "Talas Region"),
    ],
    "purpose": [
        (
            "hr_employment",
            "Кадрдык иш жана эмгек мамилелери",
            "Кадровая работа и трудовые отношения",
            "Human resources and employment",
        ),
        ("customer_service", "Кардарларды тейлөө", "Обслуживание клиентов", "Customer service"),
        (
            "contract_performance",
            "Келишимдерди түзүү жана аткаруу",
            "Заключение и исполнение договоров",
            "Concluding and performing contracts",
        ),
        (
            "accounting_tax",
            "Бухгалтердик жана салыктык эсепке алуу",
            "Бухгалтерский и налоговый учёт",
            "Accounting and tax",
        ),
        (
            "health_care",
            "Медициналык жардам көрсөтүү",
            "Оказание медицинской помощи",
            "Health care",
        ),
        ("education", "Билим берүү ишмердүүлүгү", "Образовательная деятельность", "Education"),
        ("social_protection", "Социалдык коргоо", "Социальная защита", "Social protection"),
        (
            "state_services",
            "Мамлекеттик жана муниципалдык кызматтарды көрсөтүү",
            "Предоставление государственных и муниципальных услуг",
            "Providing state and municipal services",
        ),
        (
            "security_video",
            "Күзөт жана видеобайкоо",
            "Охрана и видеонаблюдение",
            "Security and video surveillance",
        ),
        ("marketing", "Маркетинг жана жарнама", "Маркетинг и реклама", "Marketing and advertising"),
        (
            "statistics_research",
            "Статистика жана илимий изилдөөлөр",
            "Статистика и научные исследования",
            "Statistics and research",
        ),
        (
            "law_enforcement",
            "Укук коргоо иши",
            "Правоохранительная деятельность",
            "Law enforcement",
        ),
        OTHER,
    ],
    # Extra column: valid_for_special_categories.
    "legal_basis": [
        (
            "consent",
            "Жеке маалыматтардын субъектисинин макулдугу",
            "Согласие субъекта персональных данных",
            "Consent of the data subject",
            False,
        ),
        (
            "written_consent",
            "Жеке маалыматтардын субъектисинин жазуу жүзүндөгү макулдугу",
            "Письменное согласие субъекта персональных данных",
            "Written consent of the data subject",
            True,
        ),
        (
            "contract",
            "Жеке маалыматтардын субъектиси менен түзүлгөн келишимди аткаруу",
            "Исполнение договора с субъектом персональных данных",
            "Performing a contract with the data subject",
            False,
        ),
        (
            "legal_obligation",
            "Мыйзамда белгиленген милдетти аткаруу",
            "Исполнение обязанности, установленной законом",
            "Complying with an obligation set by law",
            False,
        ),
        (
            "law_special_categories",
            "Атайын категориядагы жеке маалыматтарды иштетүү мыйзамда каралган",
            "Обработка специальных категорий персональных данных предусмотрена законом",
            "Processing of special categories provided for by law",
            True,
        ),
        (
            "vital_interests",
            "Субъекттин өмүрүн, ден соолугун же башка турмуштук маанилүү кызыкчылыктарын коргоо",
            "Защита жизни, здоровья или иных жизненно важных интересов субъекта",
            "Protecting the life, health or other vital interests of the data subject",
            True,
        ),
        (
            "medical_purposes",
            "Медициналык максаттар: дарыгердик сырды сактоого милдеттүү медициналык "
            "кызматкерлер тарабынан иштетүү",
            "Медицинские цели: обработка медицинскими работниками, обязанными сохранять "
            "врачебную тайну",
            "Medical purposes, by medical professionals bound by confidentiality",
            True,
        ),
        (
            "public_interest_state_functions",
            "Коомдук кызыкчылыкта мамлекеттик же муниципалдык милдеттерди аткаруу",
            "Осуществление государственных или муниципальных функций в общественных интересах",
            "Performing state or municipal functions in the public interest",
            False,
        ),
        (
            "court_proceedings",
            "Сот өндүрүшү жана сот адилеттигин ишке ашыруу",
            "Судопроизводство и осуществление правосудия",
            "Court proceedings and the administration of justice",
            True,
        ),
        (*OTHER, False),
    ],
    # Extra column: is_special_category.
    "data_item": [
        ("full_name", "Аты-жөнү", "Фамилия, имя, отчество", "Full name", False),
        (
            "pin",
            "Жеке идентификациялык номер (ПИН)",
            "Персональный идентификационный номер (ПИН)",
            "Personal identification number (PIN)",
            False,
        ),
        ("passport", "Паспорттук маалыматтар", "Паспортные данные", "Passport data", False),
        ("birth_date", "Туулган күнү", "Дата рождения", "Date of birth", False),
        ("address", "Дареги", "Адрес", "Address", False),
        ("phone", "Телефон номери", "Номер телефона", "Phone number", False),
        (
            "email",
            "Электрондук почтанын дареги",
            "Адрес электронной почты",
            "E-mail address",
            False,
        ),
        ("photo", "Сүрөтү", "Фотография", "Photograph", False),
        ("biometric", "Биометрикалык маалыматтар", "Биометрические данные", "Biometric data", True),
        (
            "health",
            "Ден соолугунун абалы тууралуу маалыматтар",
            "Сведения о состоянии здоровья",
            "Health data",
            True,
        ),
        (
            "ethnicity",
            "Расалык же улуттук таандыктыгы",
            "Расовая или национальная принадлежность",
            "Racial or ethnic origin",
            True,
        ),
        (
            "religion",
            "Диний же философиялык ынанымдары",
            "Религиозные или философские убеждения",
            "Religious or philosophical beliefs",
            True,
        ),
        (
            "political_views",
            "Саясий көз караштары",
            "Политические взгляды",
            "Political views",
            True,
        ),
        (
            "criminal_record",
            "Соттуулугу тууралуу маалыматтар",
            "Сведения о судимости",
            "Criminal record",
            True,
        ),
        (
            "sex_life",
            "Жыныстык турмушу тууралуу маалыматтар",
            "Сведения о половой жизни",
            "Sex life",
            True,
        ),
        (
            "financial",
            "Финансылык маалыматтар (кирешелер, эсептер, карыздар)",
            "Финансовые сведения (доходы, счета, задолженность)",
            "Financial data (income, accounts, debts)",
            False,
        ),
        ("education", "Билими тууралуу маалыматтар", "Сведения об образовании", "Education", False),
        (
            "employment",
            "Эмгек ишмердүүлүгү тууралуу маалыматтар",
            "Сведения о трудовой деятельности",
            "Employment history",
            False,
        ),
        (
            "location",
            "Жайгашкан жери тууралуу маалыматтар",
            "Данные о местоположении",
            "Location data",
            False,
        ),
        (
            "online_identifiers",
            "Онлайн идентификаторлор (IP-дарек, cookie, эсептик жазуулар)",
            "Сетевые идентификаторы (IP-адрес, cookie, учётные записи)",
            "Online identifiers (IP address, cookies, accounts)",
            False,
        ),
        (
            "family",
            "Үй-бүлөлүк абалы жана үй-бүлө мүчөлөрү",
            "Семейное положение и члены семьи",
            "Family status and family members",
            False,
        ),
        (*OTHER, False),
    ],
    "subject_category": [
        ("employees", "Кызматкерлер", "Работники", "Employees"),
        ("job_applicants", "Жумушка талапкерлер", "Кандидаты на работу", "Job applicants"),
        ("customers", "Кардарлар", "Клиенты", "Customers"),
        ("patients", "Бейтаптар", "Пациенты", "Patients"),
        (
            "pupils_students",
            "Окуучулар жана студенттер",
            "Учащиеся и студенты",
            "Pupils and students",
        ),
        ("minors", "Жашы жете электер", "Несовершеннолетние", "Minors"),
        ("citizens", "Жарандар", "Граждане", "Citizens"),
        ("visitors", "Келүүчүлөр", "Посетители", "Visitors"),
        (
            "contractors",
            "Контрагенттер жана подрядчылар",
            "Контрагенты и подрядчики",
            "Contractors and counterparties",
        ),
        (
            "members",
            "Мүчөлөр (бирикменин, кооперативдин, партиянын)",
            "Члены (объединения, кооператива, партии)",
            "Members (of an association, cooperative or party)",
        ),
        OTHER,
    ],
    # Extra columns: lower_bound, upper_bound (inclusive; None: no upper bound). One bucket
    # boundary sits at 100,000 (DESIGN.md §2).
    "subject_bucket": [
        ("up_to_1000", "1 000ге чейин", "До 1 000", "Up to 1,000", 1, 1_000),
        (
            "up_to_10000",
            "1 001ден 10 000ге чейин",
            "От 1 001 до 10 000",
            "1,001 to 10,000",
            1_001,
            10_000,
        ),
        (
            "up_to_100000",
            "10 001ден 100 000ге чейин",
            "От 10 001 до 100 000",
            "10,001 to 100,000",
            10_001,
            100_000,
        ),
        (
            "up_to_1000000",
            "100 001ден 1 000 000го чейин",
            "От 100 001 до 1 000 000",
            "100,001 to 1,000,000",
            100_001,
            1_000_000,
        ),
        (
            "over_1000000",
            "1 000 000дон ашык",
            "Более 1 000 000",
            "More than 1,000,000",
            1_000_001,
            None,
        ),
    ],
    "source": [
        (
            "subject_directly",
            "Түздөн-түз жеке маалыматтардын субъектисинен",
            "Непосредственно от субъекта персональных данных",
            "From the data subject directly",
        ),
        ("third_parties", "Үчүнчү жактардан", "От третьих лиц", "From third parties"),
        (
            "public_sources",
            "Жалпыга жеткиликтүү булактардан",
            "Из общедоступных источников",
            "From publicly available sources",
        ),
        (
            "state_information_systems",
            "Мамлекеттик маалыматтык системалардан",
            "Из государственных информационных систем",
            "From state information systems",
        ),
        OTHER,
    ],
    "recipient_category": [
        ("state_bodies", "Мамлекеттик органдар", "Государственные органы", "State bodies"),
        (
            "law_enforcement",
            "Укук коргоо органдары",
            "Правоохранительные органы",
            "Law enforcement bodies",
        ),
        ("courts", "Соттор", "Суды", "Courts"),
        (
            "banks_financial",
            "Банктар жана финансы-кредит мекемелери",
            "Банки и финансово-кредитные учреждения",
            "Banks and financial institutions",
        ),
        ("insurers", "Камсыздандыруу уюмдары", "Страховые организации", "Insurers"),
        (
            "contractors_processors",
            "Кармоочунун тапшырмасы боюнча маалыматтарды иштеткен подрядчылар",
            "Подрядчики, обрабатывающие данные по поручению держателя",
            "Contractors processing data on the holder's behalf",
        ),
        (
            "group_companies",
            "Ошол эле топко кирген компаниялар",
            "Компании той же группы",
            "Companies of the same group",
        ),
        (
            "foreign_recipients",
            "Чет өлкөдөгү алуучулар",
            "Получатели за рубежом",
            "Recipients abroad",
        ),
        OTHER,
    ],
    "security_measure": [
        (
            "access_control",
            "Жетүү укуктарын чектөө",
            "Разграничение прав доступа",
            "Access control",
        ),
        ("encryption", "Шифрлөө", "Шифрование", "Encryption"),
        ("backups", "Камдык көчүрмөлөрдү түзүү", "Резервное копирование", "Backups"),
        ("antivirus", "Антивирустук коргоо", "Антивирусная защита", "Anti-virus protection"),
        ("firewall", "Тармактар аралык экран", "Межсетевой экран", "Firewall"),
        (
            "audit_logging",
            "Жетүүнү каттоо жана аудит",
            "Журналирование и аудит доступа",
            "Access logging and audit",
        ),
        ("staff_training", "Кызматкерлерди окутуу", "Обучение персонала", "Staff training"),
        (
            "physical_security",
            "Жайларды физикалык коргоо",
            "Физическая охрана помещений",
            "Physical security of premises",
        ),
        (
            "pseudonymisation",
            "Псевдонимдештирүү жана анонимдештирүү",
            "Псевдонимизация и обезличивание",
            "Pseudonymisation and anonymisation",
        ),
        (
            "incident_response",
            "Инциденттерге жооп кайтаруу тартиби",
            "Порядок реагирования на инциденты",
            "Incident response procedure",
        ),
        (
            "data_minimisation",
            "Маалыматтарды минималдаштыруу",
            "Минимизация данных",
            "Data minimisation",
        ),
        OTHER,
    ],
    "storage_form": [
        ("paper", "Кагаз түрүндө", "На бумажных носителях", "Paper"),
        ("electronic", "Электрондук түрдө", "В электронной форме", "Electronic"),
        (
            "mixed",
            "Аралаш (кагаз жана электрондук)",
            "Смешанная (бумажная и электронная)",
            "Mixed (paper and electronic)",
        ),
    ],
}


def _rows(now: datetime) -> list[dict]:
    rows = []
    for list_code, entries in LISTS.items():
        for position, entry in enumerate(entries, start=1):
            code, label_ky, label_ru, label_en, *extra = entry
            row = {
                "id": uuid.uuid4(),
                "list_code": list_code,
                "code": code,
                "label_ky": label_ky,
                "label_ru": label_ru,
                "label_en": label_en,
                "sort_order": position * 10,  # gaps, so that admins can insert between
                "is_special_category": False,
                "valid_for_special_categories": False,
                "lower_bound": None,
                "upper_bound": None,
                "retired_at": None,
                "created_at": now,
                "updated_at": now,
            }
            if list_code == "data_item":
                row["is_special_category"] = extra[0]
            elif list_code == "legal_basis":
                row["valid_for_special_categories"] = extra[0]
            elif list_code == "subject_bucket":
                row["lower_bound"], row["upper_bound"] = extra
            rows.append(row)
    return rows


def upgrade():
    op.bulk_insert(reference_items, _rows(datetime.now(UTC)))


def downgrade():
    op.execute(reference_items.delete().where(reference_items.c.list_code.in_(list(LISTS))))

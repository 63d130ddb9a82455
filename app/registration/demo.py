"""Demo registration for WCPP 2026: settings, nine registration types with USD and IDR fees,
and 420 clearly synthetic delegates from 44 countries in every state, some in delegations,
some with visa letters. Deterministic (one seeded random generator) and safe to load again.

The delegates are seed data built straight from the models (registering 420 people through
the services would send 420 emails to addresses that do not exist); their fees come from the
services' own fee rules and each gets a "created (demo)" history row.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from babel import Locale
from sqlalchemy import func, select

from app.auth.models import User
from app.auth.services import find_user_by_email
from app.demo import load_wcpp_event
from app.events.models import Event
from app.extensions import db
from app.i18n.formatting import to_event_time
from app.i18n.text import TranslatedText
from app.partners.models import Partner
from app.registration import services, visa
from app.registration.models import (
    Delegation,
    Registration,
    RegistrationHistory,
    RegistrationStatus,
    RegistrationType,
    VisaLetter,
)
from app.registration.passports import encrypt_passport
from app.registration.services import FeeDetails, RegistrationTypeDetails

SEED = 2026
SYNTHETIC_DELEGATES = 420
EMAIL_DOMAIN = "example.org"  # RFC 2606: never a real mailbox
DEMO_DELEGATE_EMAIL = "delegate@wcpp2026.example"
DEMO_ORGANISER_EMAIL = "organiser@wcpp2026.example"
ISSUED_VISA_LETTERS = 8

# The 44 countries of the demo's delegates (ISO 3166), Indonesia first.
COUNTRIES = (
    "ID", "MY", "SG", "TH", "PH", "VN", "TL", "JP", "KR", "CN", "IN",
    "BD", "LK", "NP", "PK", "AU", "NZ", "FJ", "PG", "US", "CA", "MX",
    "BR", "AR", "CL", "CO", "GB", "IE", "NL", "BE", "DE", "FR", "SE",
    "NO", "FI", "ES", "IT", "KE", "NG", "ZA", "GH", "UG", "EG", "MA",
)  # fmt: skip
# The host country sends many more delegates than any other.
HOST_SHARE = 0.3
SYLLABLES = (
    "ka", "lo", "mi", "ra", "te", "su", "na", "vi", "do", "re",
    "sa", "lu", "ne", "ta", "mo", "ri", "ba", "fi", "go", "le",
)  # fmt: skip
TITLES = (None, None, "Dr", "Prof", "Mr", "Ms")
DIETARY_NEEDS = (None, None, None, None, "Vegetarian", "Halal", "No nuts", "Vegan")
REJECTION_REASONS = (
    "Sample data: registered twice under another address.",
    "Sample data: press accreditation could not be verified.",
    "Sample data: the registration type does not match the delegate's role.",
)
# Where each type's synthetic delegates work, and as what.
ORGANISATIONS = {
    "delegate": ("Sample Probation Service", "Probation officer"),
    "government-delegate": ("Sample Ministry of Justice", "Director"),
    "academic": ("Sample University", "Lecturer in criminology"),
    "ngo": ("Sample Reintegration Foundation", "Programme officer"),
    "student": ("Sample University", "Student"),
    "speaker": ("Sample Institute of Criminology", "Researcher"),
    "accompanying": (None, None),
    "press": ("Sample News Agency", "Journalist"),
    "sponsored": ("Sample Parole Board", "Case manager"),
}
# How many synthetic delegates each type has (outside the delegations).
TYPE_SHARES = {
    "delegate": 150,
    "government-delegate": 36,
    "academic": 45,
    "ngo": 40,
    "student": 48,
    "speaker": 30,
    "accompanying": 15,
    "press": 14,
    "sponsored": 12,
}
# Six government delegations: (country, members besides the head).
DELEGATIONS = (("MY", 6), ("TH", 5), ("PH", 6), ("KE", 4), ("AU", 5), ("JP", 4))
REGISTRATION_DAYS = (date(2025, 11, 1), date(2026, 3, 25))


@dataclass(frozen=True)
class DemoType:
    """A registration type of the demo, fees in major units (dollars, rupiah)."""

    code: str
    name_en: str
    name_id: str
    description_en: str
    description_id: str
    capacity: int | None
    usd: int | None = None
    idr: int | None = None
    early_usd: int | None = None
    early_idr: int | None = None
    needs_approval: bool = False

    @property
    def is_free(self) -> bool:
        """Whether delegates of this type pay nothing."""
        return self.usd is None and self.idr is None


EARLY_BIRD_UNTIL = date(2026, 1, 31)
DEMO_TYPES = (
    DemoType(
        "delegate",
        "Delegate",
        "Delegasi",
        "Full congress: plenaries, thematic sessions, lunches and the welcome dinner.",
        "Kongres penuh: sidang pleno, sesi tematik, makan siang dan jamuan makan malam.",
        300,
        450,
        4_500_000,
        375,
        3_750_000,
    ),
    DemoType(
        "government-delegate",
        "Government delegate",
        "Delegasi pemerintah",
        "For officials of probation, parole and corrections services; confirmed by the organisers.",
        "Bagi pejabat layanan probation, parole dan pemasyarakatan; dikonfirmasi oleh panitia.",
        120,
        450,
        4_500_000,
        375,
        3_750_000,
        needs_approval=True,
    ),
    DemoType(
        "academic",
        "Academic",
        "Akademisi",
        "Researchers and lecturers.",
        "Peneliti dan dosen.",
        60,
        350,
        3_500_000,
        295,
        2_950_000,
    ),
    DemoType(
        "ngo",
        "NGO representative",
        "Perwakilan LSM",
        "Civil-society organisations working with offenders and their families.",
        "Organisasi masyarakat sipil yang bekerja dengan klien dan keluarganya.",
        60,
        300,
        3_000_000,
        250,
        2_500_000,
    ),
    DemoType(
        "student",
        "Student",
        "Mahasiswa",
        "Full-time students; bring your student card.",
        "Mahasiswa penuh waktu; bawa kartu mahasiswa.",
        40,
        150,
        1_500_000,
        120,
        1_200_000,
    ),
    DemoType(
        "speaker",
        "Speaker",
        "Pembicara",
        "Invited speakers and panellists.",
        "Pembicara undangan dan panelis.",
        60,
    ),
    DemoType(
        "accompanying",
        "Accompanying person",
        "Pendamping",
        "Social programme and the welcome dinner; no sessions.",
        "Program sosial dan jamuan makan malam; tanpa sesi.",
        40,
        200,
        2_000_000,
    ),
    DemoType(
        "press",
        "Press",
        "Pers",
        "Accredited journalists; confirmed by the organisers.",
        "Jurnalis terakreditasi; dikonfirmasi oleh panitia.",
        20,
        needs_approval=True,
    ),
    DemoType(
        "sponsored",
        "Sponsored delegate",
        "Delegasi bersponsor",
        "Delegates whose place a sponsor pays.",
        "Delegasi yang biayanya ditanggung sponsor.",
        30,
    ),
)


def _minor(amount: int | None) -> int | None:
    """Major units (dollars, rupiah) to minor units (both currencies have two decimals)."""
    return None if amount is None else amount * 100


def _type_details(demo: DemoType, position: int) -> RegistrationTypeDetails:
    """A demo type as the registration service takes it."""
    fees = [
        FeeDetails(
            currency="USD",
            amount_minor=_minor(demo.usd),
            early_bird_amount_minor=_minor(demo.early_usd),
        ),
        FeeDetails(
            currency="IDR",
            amount_minor=_minor(demo.idr),
            early_bird_amount_minor=_minor(demo.early_idr),
        ),
    ]
    early = demo.early_usd is not None or demo.early_idr is not None
    return RegistrationTypeDetails(
        code=demo.code,
        name=TranslatedText(en=demo.name_en, id=demo.name_id),
        description=TranslatedText(en=demo.description_en, id=demo.description_id),
        capacity=demo.capacity,
        needs_approval=demo.needs_approval,
        is_free=demo.is_free,
        early_bird_until=EARLY_BIRD_UNTIL if early else None,
        active=True,
        position=position,
        fees=[] if demo.is_free else fees,
    )


def load_demo_types(event: Event) -> dict[str, RegistrationType]:
    """The demo's registration types by code; existing ones are left as organisers made them."""
    existing = {item.code: item for item in services.registration_types(event, active_only=False)}
    for position, demo in enumerate(DEMO_TYPES, start=1):
        if demo.code not in existing:
            existing[demo.code] = services.save_registration_type(
                event, None, _type_details(demo, position * 10), actor=None
            )
    return existing


def load_demo_settings(event: Event) -> None:
    """WCPP 2026's registration window and rules, unless organisers have set them."""
    if services.settings_for(event) is None:
        # The real window closed on 31 March 2026; a demo loaded later keeps the form open a
        # while so that a newcomer can try registering.
        closes_on = max(date(2026, 3, 31), services.event_today() + timedelta(days=60))
        services.save_settings(
            event,
            opens_on=date(2025, 11, 1),
            closes_on=closes_on,
            edit_cutoff_on=closes_on,
            waitlist_offer_hours=48,
            passport_retention_days=90,
            actor=None,
        )


# --- synthetic delegates --------------------------------------------------------------------


@dataclass
class DelegateSpec:
    """One synthetic delegate before it becomes a Registration."""

    number: int
    type_code: str
    nationality: str
    status: RegistrationStatus
    delegation: int | None = None
    is_head: bool = False

    @property
    def email(self) -> str:
        """The delegate's made-up address."""
        return f"sample.delegate.{self.number:03d}@{EMAIL_DOMAIN}"


def _name(rng: random.Random) -> str:
    """A made-up name of two or three neutral syllables."""
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 3)))).capitalize()


def _status_for(type_code: str, rng: random.Random) -> RegistrationStatus:
    """A plausible state for a delegate of this type (most confirmed)."""
    demo = next(item for item in DEMO_TYPES if item.code == type_code)
    roll = rng.random()
    if roll < 0.05:
        return RegistrationStatus.CANCELLED
    if demo.needs_approval and roll < 0.2:
        return RegistrationStatus.PENDING_APPROVAL
    if demo.needs_approval and roll < 0.26:
        return RegistrationStatus.REJECTED
    if not demo.is_free and roll < 0.22:
        return RegistrationStatus.AWAITING_PAYMENT
    return RegistrationStatus.CONFIRMED


def _delegation_specs(rng: random.Random, first_number: int) -> list[DelegateSpec]:
    """The six delegations: a confirmed head and members in various states."""
    specs = []
    number = first_number
    member_states = (
        RegistrationStatus.CONFIRMED,
        RegistrationStatus.CONFIRMED,
        RegistrationStatus.AWAITING_PAYMENT,
        RegistrationStatus.PENDING_APPROVAL,
        RegistrationStatus.SUBMITTED,
    )
    for index, (country, members) in enumerate(DELEGATIONS):
        specs.append(
            DelegateSpec(
                number,
                "government-delegate",
                country,
                RegistrationStatus.CONFIRMED,
                delegation=index,
                is_head=True,
            )
        )
        number += 1
        for _ in range(members):
            state = rng.choice(member_states)
            specs.append(DelegateSpec(number, "government-delegate", country, state, index))
            number += 1
    return specs


def _specs(rng: random.Random) -> list[DelegateSpec]:
    """All 420 synthetic delegates: every one of the 44 countries, every state."""
    specs = _delegation_specs(rng, 1)
    type_codes = [code for code, count in TYPE_SHARES.items() for _ in range(count)]
    rng.shuffle(type_codes)
    type_codes = type_codes[: SYNTHETIC_DELEGATES - len(specs)]
    for index, type_code in enumerate(type_codes):
        # The first 44 cover every country once; then mostly the host.
        if index < len(COUNTRIES):
            country = COUNTRIES[index]
        elif rng.random() < HOST_SHARE:
            country = "ID"
        else:
            country = rng.choice(COUNTRIES[1:])
        specs.append(DelegateSpec(len(specs) + 1, type_code, country, _status_for(type_code, rng)))
    _fit_capacities(specs)
    _add_refunds(specs)
    return specs


def _fit_capacities(specs: list[DelegateSpec]) -> None:
    """Put everyone beyond a type's capacity on its waiting list (students overflow)."""
    capacity = {demo.code: demo.capacity for demo in DEMO_TYPES}
    holding: Counter[str] = Counter()
    for spec in specs:
        if spec.status not in services.PLACE_HOLDING:
            continue
        limit = capacity[spec.type_code]
        if limit is not None and holding[spec.type_code] >= limit:
            spec.status = RegistrationStatus.WAITLISTED
        else:
            holding[spec.type_code] += 1


def _add_refunds(specs: list[DelegateSpec]) -> None:
    """Two paid delegates cancelled after paying and were refunded."""
    paid = [
        s for s in specs if s.type_code == "delegate" and s.status is RegistrationStatus.CONFIRMED
    ]
    for spec in paid[-2:]:
        spec.status = RegistrationStatus.REFUNDED


def _english_country(code: str) -> str:
    """A country's English name (organisation names are stored in one language)."""
    return Locale("en").territories.get(code, code)


def _created_at(rng: random.Random) -> datetime:
    """A registration moment inside the registration window."""
    first, last = REGISTRATION_DAYS
    day = first + timedelta(days=rng.randrange((last - first).days + 1))
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
        minutes=rng.randrange(24 * 60)
    )


def _reference(rng: random.Random, taken: set[str]) -> str:
    """A reference like the services make, drawn from the seeded generator, unused so far."""
    while True:
        reference = "".join(
            rng.choice(services.REFERENCE_ALPHABET) for _ in range(services.REFERENCE_LENGTH)
        )
        if reference not in taken:
            taken.add(reference)
            return reference


def _build_registration(
    event: Event,
    spec: DelegateSpec,
    registration_type: RegistrationType,
    rng: random.Random,
    partners: list[Partner],
    taken: set[str],
) -> Registration:
    """One synthetic delegate's registration with a consistent fee, dates and visa data."""
    created = _created_at(rng)
    given, family = _name(rng), _name(rng)
    organisation, position = ORGANISATIONS[spec.type_code]
    registration = Registration(
        event=event,
        reference=_reference(rng, taken),
        registration_type=registration_type,
        status=spec.status.value,
        title=rng.choice(TITLES),
        given_name=given,
        family_name=family,
        badge_name=f"{given} {family}",
        nationality=spec.nationality,
        residence_country=spec.nationality,
        email=spec.email,
        language="id" if spec.nationality == "ID" else "en",
        created_at=created,
        updated_at=created,
        is_delegation_head=spec.is_head,
    )
    if spec.status is RegistrationStatus.SUBMITTED:
        return registration  # a member who has not completed their details yet
    if spec.nationality == "ID" and partners and rng.random() < 0.5:
        registration.partner_id = rng.choice(partners).id
    elif organisation:
        registration.organisation_name = f"{organisation} ({_english_country(spec.nationality)})"
    registration.position = position
    registration.dietary_needs = rng.choice(DIETARY_NEEDS)
    registration.media_consent = rng.random() < 0.8
    registration.privacy_consent_at = created
    if spec.status is not RegistrationStatus.AWAITING_PAYMENT or rng.random() < 0.8:
        registration.email_confirmed_at = created + timedelta(minutes=rng.randrange(5, 600))
    currency = services.currency_for(registration.nationality, registration.residence_country)
    registration.currency = currency
    registration.fee_minor = services.fee_for(
        registration_type, currency, to_event_time(created).date()
    )
    if spec.status is RegistrationStatus.WAITLISTED:
        registration.waitlisted_at = created
    if spec.status is RegistrationStatus.REJECTED:
        registration.rejection_reason = rng.choice(REJECTION_REASONS)
    if spec.nationality != "ID" and rng.random() < 0.3:
        registration.needs_visa_letter = True
        registration.passport_number_encrypted = encrypt_passport(f"S{rng.randrange(10**7, 10**8)}")
        registration.passport_expiry = date(2028 + rng.randrange(6), rng.randrange(1, 13), 1)
        registration.birth_date = date(1960 + rng.randrange(40), rng.randrange(1, 13), 15)
        registration.birth_place = f"Sample City, {_english_country(spec.nationality)}"
    return registration


def _history(registration: Registration) -> RegistrationHistory:
    """The demo registration's only history row: created (demo)."""
    details = {"source": "demo"}
    if registration.rejection_reason:
        details["reason"] = registration.rejection_reason
    return RegistrationHistory(
        registration=registration,
        action="created",
        to_status=registration.status,
        details=details,
        at=registration.created_at,
    )


def _delegations(event: Event) -> list[Delegation]:
    """The six demo delegations, found or created."""
    delegations = []
    for country, _members in DELEGATIONS:
        name = f"Delegation of {_english_country(country)} (sample)"
        delegation = db.session.scalar(
            select(Delegation).where(Delegation.event_id == event.id, Delegation.name == name)
        ) or Delegation(event_id=event.id, country=country, name=name)
        db.session.add(delegation)
        delegations.append(delegation)
    return delegations


def _issue_letters(registrations: list[Registration], organiser: User | None) -> None:
    """Visa letters for the first few eligible delegates, numbered like the real ones.

    Built directly rather than with visa.issue_visa_letter, which emails each delegate.
    """
    eligible = [r for r in registrations if visa.issue_blocker(r) is None]
    sequence = db.session.scalar(
        select(func.coalesce(func.max(VisaLetter.sequence), 0)).where(
            VisaLetter.event_id == registrations[0].event_id
        )
    )
    for registration in eligible[:ISSUED_VISA_LETTERS]:
        sequence += 1
        issued_at = registration.email_confirmed_at + timedelta(days=3)
        letter = VisaLetter(
            event_id=registration.event_id,
            registration=registration,
            sequence=sequence,
            number=visa.letter_number(registration.event, sequence),
            verification_code=visa.new_verification_code(),
            language=registration.language,
            issued_at=issued_at,
            issued_by_id=organiser.id if organiser else None,
            **services.letter_holder(registration),
        )
        db.session.add(letter)
        services.record_history(
            registration,
            "visa_letter_issued",
            actor=organiser,
            now=issued_at,
            number=letter.number,
        )


def _demo_delegate_registration(
    event: Event, types: dict[str, RegistrationType], rng: random.Random, taken: set[str]
) -> Registration | None:
    """The demo delegate account's own registration, awaiting payment (the payments demo)."""
    user = find_user_by_email(DEMO_DELEGATE_EMAIL)
    if user is None:
        return None
    created = datetime(2026, 2, 10, 9, 30, tzinfo=UTC)
    delegate_type = types["delegate"]
    return Registration(
        event=event,
        reference=_reference(rng, taken),
        registration_type=delegate_type,
        status=RegistrationStatus.AWAITING_PAYMENT.value,
        user=user,
        given_name="Demo",
        family_name="Delegate",
        badge_name="Demo Delegate",
        nationality="AU",
        residence_country="AU",
        organisation_name="Sample Probation Service (Australia)",
        position="Probation officer",
        email=DEMO_DELEGATE_EMAIL,
        language=user.language,
        privacy_consent_at=created,
        email_confirmed_at=created + timedelta(minutes=12),
        currency="USD",
        fee_minor=services.fee_for(delegate_type, "USD", created.date()),
        created_at=created,
        updated_at=created,
    )


def load_demo_registration() -> None:
    """Settings, types and the synthetic delegates of WCPP 2026 (missing ones only)."""
    event = load_wcpp_event()
    load_demo_settings(event)
    types = load_demo_types(event)
    # Seed data must come out the same on every load, hence a seeded, non-secret generator.
    rng = random.Random(SEED)  # noqa: S311
    specs = _specs(rng)
    emails = [spec.email for spec in specs] + [DEMO_DELEGATE_EMAIL]
    existing = set(
        db.session.scalars(
            select(Registration.email).where(
                Registration.event_id == event.id, Registration.email.in_(emails)
            )
        )
    )
    taken = set(db.session.scalars(select(Registration.reference)))
    partners = list(
        db.session.scalars(select(Partner).where(Partner.country == "ID").order_by(Partner.id))
    )
    delegations = _delegations(event)
    created = []
    for spec in specs:
        # Drawn for every spec, so that each delegate's details stay the same on a reload.
        registration = _build_registration(event, spec, types[spec.type_code], rng, partners, taken)
        if spec.email in existing:
            continue
        db.session.add(registration)
        if spec.delegation is not None:
            registration.delegation = delegations[spec.delegation]
        created.append(registration)
    if DEMO_DELEGATE_EMAIL not in existing:
        own = _demo_delegate_registration(event, types, rng, taken)
        if own is not None:
            created.append(own)
    if not created:
        return
    db.session.add_all(created)  # the demo delegate's too
    db.session.add_all([_history(registration) for registration in created])
    db.session.flush()
    _issue_letters(created, find_user_by_email(DEMO_ORGANISER_EMAIL))
    db.session.flush()

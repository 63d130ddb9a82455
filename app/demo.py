"""WCPP 2026 demo data; every domain adds its part here. Safe to load again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.auth.models import Role
from app.auth.services import create_user, find_user_by_email
from app.events.models import Event
from app.events.services import ensure_event
from app.i18n.text import TranslatedText


@dataclass(frozen=True)
class DemoAccount:
    """A demo sign-in, printed by `make run` and listed in the README."""

    email: str
    name: str
    password: str
    roles: tuple[str, ...]
    language: str


DEMO_ACCOUNTS = (
    DemoAccount(
        "admin@wcpp2026.example",
        "Demo Administrator",
        "demo-admin-wcpp2026",
        (Role.ADMIN.value,),
        "en",
    ),
    DemoAccount(
        "organiser@wcpp2026.example",
        "Rika Aprianti (demo organiser)",
        "demo-organiser-wcpp2026",
        (Role.ORGANISER.value,),
        "id",
    ),
    DemoAccount(
        "registry@wcpp2026.example",
        "M. Hilal (demo registry officer)",
        "demo-registry-wcpp2026",
        (Role.REGISTRY_OFFICER.value,),
        "id",
    ),
    DemoAccount(
        "gate@wcpp2026.example",
        "Demo Gate Clerk",
        "demo-gate-wcpp2026",
        (Role.GATE_STAFF.value,),
        "id",
    ),
    DemoAccount(
        "delegate@wcpp2026.example",
        "Demo Delegate",
        "demo-delegate-wcpp2026",
        (Role.DELEGATE.value,),
        "en",
    ),
)


def load_wcpp_event() -> Event:
    """The 7th World Congress on Probation and Parole, Bali, 14–17 April 2026."""
    return ensure_event(
        slug="wcpp2026",
        short_name="WCPP 2026",
        name=TranslatedText(
            en="7th World Congress on Probation and Parole",
            id="Kongres Dunia ke-7 tentang Probation dan Parole",
        ),
        theme=TranslatedText(
            en="Getting Smart on Justice: Healing Hearts, and Safer Societies",
            id="Getting Smart on Justice: Memulihkan Hati, Mewujudkan Masyarakat yang Lebih Aman",
        ),
        host=TranslatedText(
            en="Directorate General of Corrections, Ministry of Immigration and Corrections "
            "of the Republic of Indonesia",
            id="Direktorat Jenderal Pemasyarakatan, Kementerian Imigrasi dan Pemasyarakatan "
            "Republik Indonesia",
        ),
        starts_on=date(2026, 4, 14),
        ends_on=date(2026, 4, 17),
        venue="Bali International Convention Center",
        city="Nusa Dua, Bali",
        country="ID",
        timezone="Asia/Makassar",
        default_language="en",
    )


def load_demo_accounts() -> None:
    """One account per role, with the documented demo passwords."""
    for account in DEMO_ACCOUNTS:
        if find_user_by_email(account.email) is None:
            create_user(
                account.email,
                account.name,
                password=account.password,
                roles=[Role(role) for role in account.roles],
                language=account.language,
            )


def load_demo() -> None:
    """Everything the demo needs, in dependency order."""
    from app.agreements.demo import load_demo_registry
    from app.partners.demo import load_demo_partners
    from app.payments.demo import load_demo_payments
    from app.programme.demo import load_demo_programme
    from app.registration.demo import load_demo_registration

    load_wcpp_event()
    load_demo_accounts()
    load_demo_partners()
    load_demo_registration()
    load_demo_payments()
    load_demo_registry()
    load_demo_programme()

"""The demo registry: loads twice without duplicates and gives the reported figures."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from app.agreements.demo import load_demo_registry
from app.agreements.models import Agreement, ScopeArea
from app.agreements.services import registry_today
from app.partners.demo import load_demo_partners
from app.partners.models import Partner
from app.reports.registry import RegistryFilters, registry_statistics


def _load_demo(runner) -> None:
    result = runner.invoke(args=["kongres", "demo"])
    assert result.exit_code == 0, result.output


def _counts(db) -> tuple[int, int, int]:
    return (
        db.session.scalar(select(func.count()).select_from(Agreement)),
        db.session.scalar(select(func.count()).select_from(Partner)),
        db.session.scalar(select(func.count()).select_from(ScopeArea)),
    )


def test_demo_loads_twice_without_duplicates(runner, db):
    _load_demo(runner)
    first = _counts(db)
    _load_demo(runner)
    db.session.expire_all()
    assert _counts(db) == first
    assert first[0] == 43
    duplicate_partners = db.session.execute(
        select(Partner.name_key).group_by(Partner.name_key).having(func.count() > 1)
    ).all()
    assert duplicate_partners == []


def test_demo_dashboard_figures_say_17_in_2024_and_43_in_all(runner, db):
    _load_demo(runner)
    stats = registry_statistics(RegistryFilters(), registry_today())
    per_year = {year.year: year.signed for year in stats.per_year}
    assert per_year[2024] == 17
    assert stats.total == 43
    assert stats.all_time_signed == 43
    assert stats.growth is not None
    previous, total = stats.growth
    assert (previous.year, previous.signed, total) == (2024, 17, 43)
    assert {count.key for count in stats.by_level if count.value} == {
        "central",
        "regional",
        "technical_unit",
    }
    statuses = {count.key: count.value for count in stats.by_status}
    assert statuses["expiring"] >= 3
    assert statuses["expired"] >= 2
    assert statuses["terminated"] == 1


def test_demo_has_the_eight_agreements_of_2_october_2025(runner, db):
    _load_demo(runner)
    signed = db.session.scalars(
        select(Agreement).where(Agreement.signed_on == date(2025, 10, 2))
    ).all()
    assert len(signed) == 8
    assert not any(agreement.is_sample for agreement in signed)
    assert all(agreement.status == "active" for agreement in signed)
    names = {party.partner.name for agreement in signed for party in agreement.parties}
    assert "Institute for Criminal Justice Reform" in names
    assert "CV Yasa Fortune Abadi" in names
    samples = db.session.scalars(select(Agreement).where(Agreement.is_sample.is_(True))).all()
    assert all(sample.title.get("en").startswith("[Sample]") for sample in samples)
    assert all(sample.title.get("id").startswith("[Contoh]") for sample in samples)
    relations = {sample.relation for sample in samples if sample.parent_id}
    assert relations == {"renewal", "addendum"}


def test_registry_demo_first_then_partner_demo_makes_no_duplicates(db):
    load_demo_registry()
    db.session.commit()
    load_demo_partners()
    db.session.commit()
    load_demo_registry()
    db.session.commit()
    duplicates = db.session.execute(
        select(Partner.name_key, Partner.country)
        .group_by(Partner.name_key, Partner.country)
        .having(func.count() > 1)
    ).all()
    assert duplicates == []
    assert db.session.scalar(select(func.count()).select_from(Agreement)) == 43

"""`flask kongres reminders`: one digest per officer, in their language, once a day."""

from __future__ import annotations

import time
from datetime import date, timedelta
from email.message import Message

import pytest
from babel.dates import format_date

from app.agreements import reminders
from app.agreements.models import Agreement, AgreementParty, Evaluation, ReminderSent
from app.agreements.reminders import (
    EVALUATION_DUE_WITHIN_DAYS,
    ReminderReason,
    collect_digests,
)
from app.auth.models import Role, User
from app.i18n.text import TranslatedText
from app.partners.models import Partner, name_key
from tests.conftest import free_port

TODAY = date(2026, 11, 23)


def _body(message: Message) -> str:
    return message.get_payload(decode=True).decode("utf-8")


def _invoke(runner, day: date):
    return runner.invoke(args=["kongres", "reminders", "--today", day.isoformat()])


def _run(runner, day: date) -> str:
    result = _invoke(runner, day)
    assert result.exit_code == 0, result.output
    return result.output


def _partner(db, name: str) -> Partner:
    partner = Partner(name=name, name_key=name_key(name), kind="ngo", country="ID")
    db.session.add(partner)
    return partner


def _agreement(
    db,
    officer: User | None,
    partner: Partner,
    code: str,
    *,
    status: str = "active",
    ends_in: int | None = 1000,
    started_ago: int = 400,
    evaluation_months: int | None = None,
    evaluated_ago: int | None = None,
) -> Agreement:
    """An agreement titled "Agreement <code>" / "Perjanjian <code>"."""
    agreement = Agreement(
        kind="pks",
        title=TranslatedText(en=f"Agreement {code}", id=f"Perjanjian {code}"),
        status=status,
        unit_level="central",
        unit_name="Direktorat Teknologi Informasi dan Kerja Sama Pemasyarakatan",
        responsible_officer_id=officer.id if officer is not None else None,
        signed_on=TODAY - timedelta(days=started_ago),
        starts_on=TODAY - timedelta(days=started_ago),
        ends_on=TODAY + timedelta(days=ends_in) if ends_in is not None else None,
        evaluation_interval_months=evaluation_months,
    )
    agreement.parties = [AgreementParty(partner=partner)]
    if evaluated_ago is not None:
        agreement.evaluations.append(
            Evaluation(
                evaluated_on=TODAY - timedelta(days=evaluated_ago),
                evaluator_name="Tim Evaluasi",
                findings=TranslatedText(en="Fine", id="Baik"),
            )
        )
    db.session.add(agreement)
    return agreement


@pytest.fixture
def registry(db, make_user):
    """Two officers (Indonesian, English), an inactive one, and agreements in every case."""
    indonesian = make_user(roles=[Role.REGISTRY_OFFICER], language="id", name="Petugas Satu")
    english = make_user(roles=[Role.REGISTRY_OFFICER], language="en", name="Officer Two")
    gone = make_user(roles=[Role.REGISTRY_OFFICER], language="en", name="Left Office")
    gone = db.session.get(User, gone.id)
    gone.active = False
    pkbi = _partner(db, "Perkumpulan Keluarga Berencana Indonesia")
    icjr = _partner(db, "Institute for Criminal Justice Reform")
    agreements = {
        # Indonesian officer: expiring in 30 days (listed) ...
        "A": _agreement(db, indonesian, pkbi, "A", ends_in=30),
        # ... ending in 200 days (not listed), a draft ending soon (not listed) ...
        "B": _agreement(db, indonesian, pkbi, "B", ends_in=200),
        "C": _agreement(db, indonesian, pkbi, "C", status="draft", ends_in=30),
        # ... evaluated recently, next evaluation in ~10 months (not listed).
        "D": _agreement(
            db, indonesian, icjr, "D", evaluation_months=12, evaluated_ago=60, ends_in=800
        ),
        # English officer: evaluation every 6 months, none since the start 400 days ago.
        "E": _agreement(db, english, icjr, "E", evaluation_months=6),
        # English officer: already ended (derived expired), not listed.
        "F": _agreement(db, english, icjr, "F", ends_in=-5, started_ago=800),
        # Inactive officer: every active registry officer hears about it instead.
        "G": _agreement(db, gone, pkbi, "G", ends_in=10),
    }
    db.session.commit()
    return {"id": indonesian, "en": english, "gone": gone, **agreements}


def test_each_officer_gets_one_digest_in_their_language(runner, mailbox, registry):
    output = _run(runner, TODAY)
    assert "2 reminder digest(s)" in output
    messages = mailbox.wait_for(2)
    assert len(messages) == 2

    (to_indonesian,) = mailbox.to(registry["id"].email)
    assert to_indonesian["Content-Language"] == "id"
    body = _body(to_indonesian)
    assert "Perjanjian A" in body
    assert "Agreement A" not in body
    assert format_date(TODAY + timedelta(days=30), "long", locale="id") in body
    assert "Perkumpulan Keluarga Berencana Indonesia" in body
    assert f"/agreements/{registry['A'].id}" in body
    assert "Petugas Satu" in body
    for absent in ("Perjanjian B", "Perjanjian C", "Perjanjian D", "Perjanjian E"):
        assert absent not in body
    # G's officer left: the active registry officers are told, and why.
    assert "Perjanjian G" in body

    (to_english,) = mailbox.to(registry["en"].email)
    assert to_english["Content-Language"] == "en"
    body = _body(to_english)
    assert "Agreement E" in body
    # Started 400 days before TODAY (19 October 2025), evaluated every 6 months, never yet.
    assert format_date(date(2026, 4, 19), "long", locale="en") in body
    assert "overdue" in body
    for absent in ("Agreement A", "Agreement F"):
        assert absent not in body
    assert "Agreement G" in body
    marked = body.split("Agreement G", 1)[1].split("\n- ", 1)[0]
    assert "No responsible officer: please assign one." in marked
    assert "No responsible officer" not in body.split("Agreement E", 1)[1].split("\n- ", 1)[0]
    assert "every registry officer receives them" in body
    assert mailbox.to(registry["gone"].email) == []


def test_a_second_run_the_same_day_sends_nothing_and_the_next_day_sends_again(
    runner, mailbox, registry
):
    _run(runner, TODAY)
    mailbox.wait_for(2)

    assert "0 reminder digest(s)" in _run(runner, TODAY)
    time.sleep(0.5)
    assert len(mailbox.messages) == 2

    _run(runner, TODAY + timedelta(days=1))
    assert len(mailbox.wait_for(4)) == 4
    assert len(mailbox.to(registry["id"].email)) == 2
    assert len(mailbox.to(registry["en"].email)) == 2


def test_a_rerun_sends_only_what_is_new_today(runner, mailbox, registry, db):
    _run(runner, TODAY)
    mailbox.wait_for(2)
    icjr = db.session.get(Partner, registry["D"].parties[0].partner_id)
    _agreement(db, db.session.get(User, registry["id"].id), icjr, "H", ends_in=60)
    db.session.commit()

    assert "1 reminder digest(s)" in _run(runner, TODAY)
    messages = mailbox.wait_for(3)
    assert len(messages) == 3
    latest = _body(mailbox.to(registry["id"].email)[-1])
    assert "Perjanjian H" in latest
    assert "Perjanjian A" not in latest


def test_items_sent_are_recorded_once_per_day(runner, mailbox, registry, db):
    _run(runner, TODAY)
    _run(runner, TODAY)
    mailbox.wait_for(2)
    rows = db.session.query(ReminderSent).all()
    indonesian, english = registry["id"].id, registry["en"].id
    assert sorted((row.user_id, row.agreement_id, row.reason) for row in rows) == sorted(
        [
            (indonesian, registry["A"].id, ReminderReason.EXPIRING.value),
            (indonesian, registry["G"].id, ReminderReason.EXPIRING.value),
            (english, registry["E"].id, ReminderReason.EVALUATION_DUE.value),
            (english, registry["G"].id, ReminderReason.EXPIRING.value),
        ]
    )
    assert {row.sent_on for row in rows} == {TODAY}


def test_an_evaluation_due_soon_is_listed_one_due_later_is_not(db, make_user):
    officer = make_user(roles=[Role.REGISTRY_OFFICER])
    partner = _partner(db, "Yayasan Srikandi Merah Putih")
    # Started a year minus 20 days ago, evaluated yearly: due in 20 days (within 30).
    soon = _agreement(db, officer, partner, "S", started_ago=345, evaluation_months=12)
    # Due in 60 days: not yet.
    later = _agreement(db, officer, partner, "L", started_ago=305, evaluation_months=12)
    db.session.commit()
    (digest,) = collect_digests(TODAY)
    listed = [item.agreement.id for item in digest.evaluations_due]
    assert listed == [soon.id]
    assert later.id not in listed
    assert digest.evaluations_due[0].days_from(TODAY) <= EVALUATION_DUE_WITHIN_DAYS


def test_a_failed_delivery_records_nothing_and_a_rerun_sends_it(
    app, runner, mailbox, registry, db, monkeypatch
):
    # Nobody listens on this port: every delivery is refused.
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())
    failed = _invoke(runner, TODAY)
    assert failed.exit_code != 0
    assert "0 reminder digest(s) sent" in failed.output
    assert "2 reminder digest(s) could not be delivered" in failed.output
    assert db.session.query(ReminderSent).count() == 0
    assert mailbox.messages == []

    monkeypatch.undo()
    assert "2 reminder digest(s) sent" in _run(runner, TODAY)
    assert len(mailbox.wait_for(2)) == 2
    assert db.session.query(ReminderSent).count() == 4


def test_one_officers_failure_does_not_stop_the_others(
    app, runner, mailbox, registry, db, monkeypatch
):
    real_deliver_now = reminders.deliver_now
    closed_port = free_port()

    def deliver_failing_for_the_english_officer(to, *args, **kwargs):
        """The real delivery, pointed at a closed port for one recipient."""
        if to != registry["en"].email:
            return real_deliver_now(to, *args, **kwargs)
        with monkeypatch.context() as patch:
            patch.setitem(app.config, "MAIL_PORT", closed_port)
            return real_deliver_now(to, *args, **kwargs)

    monkeypatch.setattr(reminders, "deliver_now", deliver_failing_for_the_english_officer)
    result = _invoke(runner, TODAY)
    assert result.exit_code != 0
    assert "1 reminder digest(s) sent" in result.output
    assert "1 reminder digest(s) could not be delivered" in result.output
    assert len(mailbox.to(registry["id"].email)) == 1
    assert mailbox.to(registry["en"].email) == []
    recorded = {row.user_id for row in db.session.query(ReminderSent)}
    assert recorded == {registry["id"].id}

    monkeypatch.undo()
    assert "1 reminder digest(s) sent" in _run(runner, TODAY)
    assert len(mailbox.to(registry["en"].email)) == 1
    assert len(mailbox.to(registry["id"].email)) == 1


def test_agreements_without_an_officer_reach_every_registry_officer_and_admin(
    app, runner, mailbox, db, make_user
):
    officer = make_user(roles=[Role.REGISTRY_OFFICER], name="Petugas Registri")
    admin = make_user(roles=[Role.ADMIN], name="Admin Registri")
    organiser = make_user(roles=[Role.ORGANISER], name="Organiser Only")
    retired = make_user(roles=[Role.REGISTRY_OFFICER], name="Retired Officer")
    db.session.get(User, retired.id).active = False
    partner = _partner(db, "Lembaga Ekonomi Umat")
    unassigned = _agreement(db, None, partner, "U", ends_in=45)
    db.session.commit()

    assert "2 reminder digest(s) sent" in _run(runner, TODAY)
    mailbox.wait_for(2)
    for recipient in (officer, admin):
        (message,) = mailbox.to(recipient.email)
        body = _body(message)
        assert "Agreement U" in body
        assert "No responsible officer: please assign one." in body
        # Links start with the site's public address, not the stand-in request's host.
        assert f"{app.config['SERVER_BASE_URL']}/agreements/{unassigned.id}" in body.split()
    assert mailbox.to(organiser.email) == []
    assert mailbox.to(retired.email) == []

    # Each of them was told once today.
    assert "0 reminder digest(s) sent" in _run(runner, TODAY)
    assert len(mailbox.messages) == 2

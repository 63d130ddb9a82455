"""Certificates of attendance: attendance from the admissions, the bilingual PDF, who may
download which, nothing before the congress has ended, and `flask kongres send-certificates`
(once per delegate, in their language)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app.auth.models import Role, User
from app.badges.models import Badge
from app.badges.services import badge_token, issue_badge
from app.checkin import certificates
from app.checkin.certificates import attendance_of, certificate_pdf
from app.checkin.models import Admission, CertificateDelivery, Checkpoint
from app.events.models import Event
from app.programme.models import ProgrammeSession
from app.registration.models import Registration
from app.registration.services import event_today
from tests.badges.factories import confirmed_registration
from tests.checkin.factories import make_checkpoint, scan
from tests.programme.factories import make_room, make_session
from tests.registration.factories import count_rows, make_event

MORNING_SESSION = "Electronic monitoring in community corrections"
MORNING_SESSION_ID = "Pemantauan elektronik dalam pemasyarakatan berbasis masyarakat"
AFTERNOON_SESSION = "Restorative justice and victim participation"
UNATTENDED_SESSION = "Probation officers' caseloads across Asia-Pacific"


def congress_ended_days_ago(days: int = 7) -> Event:
    """The congress (four days), over since `days` days at the venue."""
    today = event_today()
    return make_event(
        starts_on=today - timedelta(days=days + 3), ends_on=today - timedelta(days=days)
    )


def congress_running() -> Event:
    """The congress, started yesterday and ending tomorrow at the venue."""
    today = event_today()
    return make_event(starts_on=today - timedelta(days=1), ends_on=today + timedelta(days=1))


def at(event: Event, day: int, hour: int, minute: int = 0) -> datetime:
    """A moment (UTC) at this WITA wall time on the congress's day `day` (0 = the first)."""
    local = datetime.combine(
        event.starts_on + timedelta(days=day), time(hour, minute), tzinfo=ZoneInfo(event.timezone)
    )
    return local.astimezone(UTC)


@dataclass
class Congress:
    """A congress with an entrance, three session doors, and an organiser who scans."""

    event: Event
    organiser: User
    entrance: Checkpoint
    doors: dict[str, Checkpoint]
    sessions: dict[str, ProgrammeSession]

    def admit(self, badge: Badge, checkpoint: Checkpoint, moment: datetime) -> dict:
        """Scan the badge at the checkpoint at that moment (through the check-in service)."""
        return scan(self.event, badge_token(badge), checkpoint, user=self.organiser, now=moment)


def build_congress(db, make_user, event: Event) -> Congress:
    """The congress's checkpoints and sessions (morning and afternoon of day 0, one on day 2)."""
    organiser = db.session.merge(make_user(roles=[Role.ORGANISER]))
    room = make_room(event, "Nusa Dua Hall")
    sessions = {
        MORNING_SESSION: make_session(
            event,
            title_en=MORNING_SESSION,
            title_id=MORNING_SESSION_ID,
            day=event.starts_on,
            start=time(10, 0),
            end=time(11, 30),
            room=room,
        ),
        AFTERNOON_SESSION: make_session(
            event,
            title_en=AFTERNOON_SESSION,
            day=event.starts_on + timedelta(days=2),
            start=time(14, 0),
            end=time(15, 30),
            room=room,
        ),
        UNATTENDED_SESSION: make_session(
            event,
            title_en=UNATTENDED_SESSION,
            day=event.starts_on,
            start=time(13, 0),
            end=time(14, 0),
            room=room,
        ),
    }
    doors = {
        title: make_checkpoint(event, f"s-{session.id}", kind="session_door", session=session)
        for title, session in sessions.items()
    }
    entrance = make_checkpoint(event, "entrance", "Venue entrance")
    return Congress(event, organiser, entrance, doors, sessions)


def attend(congress: Congress, badge: Badge) -> None:
    """Days 0 and 2: the entrance each morning (twice on day 0), the morning session on day 0
    and the afternoon session on day 2."""
    event = congress.event
    assert congress.admit(badge, congress.entrance, at(event, 0, 8, 10))["result"] == "admitted"
    again = congress.admit(badge, congress.entrance, at(event, 0, 12, 40))
    assert again["result"] == "already_admitted"
    morning = congress.doors[MORNING_SESSION]
    assert congress.admit(badge, morning, at(event, 0, 9, 56))["result"] == "admitted"
    assert congress.admit(badge, congress.entrance, at(event, 2, 8, 30))["result"] == "admitted"
    afternoon = congress.doors[AFTERNOON_SESSION]
    assert congress.admit(badge, afternoon, at(event, 2, 13, 58))["result"] == "admitted"


def badge_of(event: Event, **details) -> Badge:
    """A confirmed registration's issued badge."""
    return issue_badge(confirmed_registration(event, **details), actor=None)


def pdf_text(data: bytes) -> str:
    """The text of every page of a PDF, its line breaks as single spaces (titles wrap)."""
    text = " ".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)
    return " ".join(text.split())


# --- attendance -----------------------------------------------------------------------------


def test_attendance_comes_from_the_badges_admissions(db, make_user, count_queries):
    event = congress_ended_days_ago()
    congress = build_congress(db, make_user, event)
    badge = badge_of(event, badge_name="Ketut Arsana")
    other = badge_of(event)
    attend(congress, badge)
    # Someone else's admission and a refused scan (a closed door) count for nobody here.
    congress.admit(other, congress.doors[UNATTENDED_SESSION], at(event, 0, 12, 58))
    congress.doors[UNATTENDED_SESSION].active = False
    refused = congress.admit(badge, congress.doors[UNATTENDED_SESSION], at(event, 0, 12, 59))
    assert refused["result"] == "not_allowed"
    db.session.commit()
    registration = db.session.get(Registration, badge.registration_id)

    with count_queries() as counter:
        attendance = attendance_of(registration)
        titles = [(session.title.get("en"), moment) for session, moment in attendance.sessions]
        rooms = {session.room.name for session, _moment in attendance.sessions}
    assert counter.count == 1

    assert attendance.attended
    assert attendance.days == [event.starts_on, event.starts_on + timedelta(days=2)]
    assert titles == [
        (MORNING_SESSION, at(event, 0, 9, 56)),
        (AFTERNOON_SESSION, at(event, 2, 13, 58)),
    ]
    assert rooms == {"Nusa Dua Hall"}
    assert count_rows(Admission) == 5


def test_a_badge_never_scanned_has_no_attendance(db):
    event = congress_ended_days_ago()
    badge = badge_of(event)
    attendance = attendance_of(badge.registration)
    assert attendance.days == []
    assert attendance.sessions == []
    assert not attendance.attended


def test_attendance_counts_in_a_constant_number_of_queries(db, make_user, count_queries):
    event = congress_ended_days_ago()
    congress = build_congress(db, make_user, event)
    busy = badge_of(event)
    quiet = badge_of(event)
    attend(congress, busy)
    congress.admit(quiet, congress.entrance, at(event, 1, 8, 0))
    db.session.commit()
    counts = []
    for badge in (busy, quiet):
        registration = db.session.get(Registration, badge.registration_id)
        with count_queries() as counter:
            attendance_of(registration)
        counts.append(counter.count)
    assert counts == [1, 1]


# --- the PDF --------------------------------------------------------------------------------


def test_the_certificate_names_the_delegate_and_the_sessions(db, make_user):
    event = congress_ended_days_ago()
    congress = build_congress(db, make_user, event)
    badge = badge_of(event, badge_name="Ketut Arsana", nationality="ID", language="en")
    attend(congress, badge)
    registration = badge.registration

    data = certificate_pdf(registration, attendance_of(registration))

    assert data.startswith(b"%PDF")
    reader = PdfReader(BytesIO(data))
    width, height = reader.pages[0].mediabox.width, reader.pages[0].mediabox.height
    assert (round(float(width)), round(float(height))) == (595, 842)  # A4 portrait
    text = pdf_text(data)
    assert "Ketut Arsana" in text
    assert "CERTIFICATE OF ATTENDANCE" in text
    assert "Indonesia" in text
    assert registration.organisation in text
    assert MORNING_SESSION in text
    assert AFTERNOON_SESSION in text
    assert UNATTENDED_SESSION not in text
    assert "Days attended: 2 of 4" in text
    assert "10:00–11:30" in text  # the session's times, in WITA
    # The congress in both languages, and the certificate number to verify it by.
    assert "7th World Congress on Probation and Parole" in text
    assert "Kongres Dunia ke-7 tentang Probation dan Parole" in text
    assert registration.reference in text


def test_the_certificate_leads_with_the_delegates_language(db, make_user):
    event = congress_ended_days_ago()
    congress = build_congress(db, make_user, event)
    badge = badge_of(event, badge_name="Made Wirawan", language="id")
    attend(congress, badge)

    text = pdf_text(certificate_pdf(badge.registration, attendance_of(badge.registration)))

    assert "Made Wirawan" in text
    assert MORNING_SESSION_ID in text
    assert MORNING_SESSION in text
    assert text.index("Kongres Dunia ke-7") < text.index("7th World Congress")


# --- downloading ----------------------------------------------------------------------------


def signed_in_delegate(db, auth, event: Event, email: str, **details) -> Badge:
    """A delegate with a confirmed registration and a badge, signed in on the test client."""
    auth.make_user(roles=[Role.DELEGATE], email=email)
    badge = badge_of(event, email=email, **details)
    db.session.commit()
    assert auth.login(email).status_code == 302
    return badge


def test_a_delegate_downloads_their_own_certificate_only(db, client, auth, make_user):
    event = congress_ended_days_ago()
    congress = build_congress(db, make_user, event)
    other = badge_of(event, badge_name="Somebody Else")
    attend(congress, other)
    badge = signed_in_delegate(db, auth, event, "ketut@example.org", badge_name="Ketut Arsana")
    attend(congress, badge)
    db.session.commit()

    response = client.get("/checkin/my-certificate.pdf")

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "no-store" in response.headers["Cache-Control"]
    text = pdf_text(response.data)
    assert "Ketut Arsana" in text
    assert "Somebody Else" not in text
    # Another delegate's certificate is for the organisers only.
    reference = other.registration.reference
    assert client.get(f"/organiser/checkin/certificates/{reference}.pdf").status_code == 403
    page = client.get("/my/registration").get_data(as_text=True)
    assert 'href="/checkin/my-certificate.pdf"' in page


def test_no_admission_means_no_certificate(db, client, auth):
    event = congress_ended_days_ago()
    signed_in_delegate(db, auth, event, "absent@example.org")

    response = client.get("/checkin/my-certificate.pdf")

    assert response.status_code == 404
    assert "no certificate of attendance" in response.get_data(as_text=True)
    page = client.get("/my/registration").get_data(as_text=True)
    assert "my-certificate.pdf" not in page
    assert "No admission was recorded with your badge" in page


def test_nothing_before_the_congress_has_ended(db, client, auth, make_user):
    event = congress_running()
    congress = build_congress(db, make_user, event)
    badge = signed_in_delegate(db, auth, event, "early@example.org")
    attend(congress, badge)
    db.session.commit()

    response = client.get("/checkin/my-certificate.pdf")

    assert response.status_code == 404
    assert "after the congress" in response.get_data(as_text=True)
    page = client.get("/my/registration").get_data(as_text=True)
    assert "my-certificate.pdf" not in page
    assert "can be downloaded here after the congress" in page
    # Not for the organisers either: attendance is not complete yet.
    auth.logout()
    auth.login_as(Role.ORGANISER)
    reference = badge.registration.reference
    assert client.get(f"/organiser/checkin/certificates/{reference}.pdf").status_code == 404


def test_organisers_download_any_delegates_certificate(db, client, auth, make_user):
    event = congress_ended_days_ago()
    congress = build_congress(db, make_user, event)
    badge = badge_of(event, badge_name="Amara Okonkwo")
    attend(congress, badge)
    db.session.commit()
    auth.login_as(Role.ORGANISER)

    response = client.get(f"/organiser/checkin/certificates/{badge.registration.reference}.pdf")

    assert response.status_code == 200
    assert "Amara Okonkwo" in pdf_text(response.data)
    assert client.get("/organiser/checkin/certificates/NOSUCHREF.pdf").status_code == 404


# --- telling delegates by email -------------------------------------------------------------


def send(runner, today: date):
    """Run `flask kongres send-certificates --today ...`."""
    return runner.invoke(args=["kongres", "send-certificates", "--today", today.isoformat()])


def test_send_certificates_once_each_in_their_language(db, make_user, runner, mailbox):
    event = congress_ended_days_ago()
    congress = build_congress(db, make_user, event)
    english = badge_of(event, email="amara@example.org", language="en")
    indonesian = badge_of(event, email="ketut@example.org", language="id")
    badge_of(event, email="absent@example.org")  # never scanned: no certificate
    attend(congress, english)
    congress.admit(indonesian, congress.entrance, at(event, 1, 8, 0))
    db.session.commit()
    mailbox.clear()  # the registration emails

    result = send(runner, event.ends_on + timedelta(days=1))

    assert result.exit_code == 0, result.output
    assert "2 certificate notice(s) sent" in result.output
    mailbox.wait_for(2)
    (to_english,) = mailbox.to("amara@example.org")
    (to_indonesian,) = mailbox.to("ketut@example.org")
    assert not mailbox.to("absent@example.org")
    assert to_english["Content-Language"] == "en"
    assert to_indonesian["Content-Language"] == "id"
    english_body = to_english.get_payload(decode=True).decode()
    indonesian_body = to_indonesian.get_payload(decode=True).decode()
    assert "7th World Congress on Probation and Parole" in english_body
    assert "Kongres Dunia ke-7 tentang Probation dan Parole" in indonesian_body
    assert "/my/registration" in english_body
    assert "/my/registration" in indonesian_body
    assert count_rows(CertificateDelivery) == 2

    # A rerun (the next day, from cron) sends nothing new.
    again = send(runner, event.ends_on + timedelta(days=2))
    assert again.exit_code == 0, again.output
    assert "0 certificate notice(s) sent" in again.output
    assert len(mailbox.messages) == 2
    assert count_rows(CertificateDelivery) == 2


def test_send_certificates_refuses_before_the_end(db, make_user, runner, mailbox):
    event = congress_running()
    congress = build_congress(db, make_user, event)
    badge = badge_of(event)
    congress.admit(badge, congress.entrance, at(event, 0, 8, 0))
    db.session.commit()
    mailbox.clear()

    result = send(runner, event.ends_on)

    assert result.exit_code != 0
    assert "certificates can be sent from" in result.output
    assert count_rows(CertificateDelivery) == 0
    assert mailbox.messages == []


def test_a_notice_the_mail_server_refused_goes_next_time(
    db, make_user, runner, mailbox, monkeypatch
):
    event = congress_ended_days_ago()
    congress = build_congress(db, make_user, event)
    for email in ("first@example.org", "second@example.org"):
        congress.admit(badge_of(event, email=email), congress.entrance, at(event, 0, 8, 0))
    db.session.commit()
    mailbox.clear()
    real_deliver_now = certificates.deliver_now

    def refusing_the_first(to, *args, **kwargs):
        if to == "first@example.org":
            raise OSError("mail server unavailable")
        return real_deliver_now(to, *args, **kwargs)

    monkeypatch.setattr(certificates, "deliver_now", refusing_the_first)
    failed = send(runner, event.ends_on + timedelta(days=1))
    assert failed.exit_code != 0
    assert "1 certificate notice(s) sent" in failed.output
    assert "could not be delivered" in failed.output
    assert [message["To"] for message in mailbox.wait_for(1)] == ["second@example.org"]

    monkeypatch.setattr(certificates, "deliver_now", real_deliver_now)
    retried = send(runner, event.ends_on + timedelta(days=1))
    assert retried.exit_code == 0, retried.output
    assert "1 certificate notice(s) sent" in retried.output
    assert mailbox.wait_for(2)[-1]["To"] == "first@example.org"
    delivered = db.session.scalars(select(CertificateDelivery.registration_id)).all()
    assert len(delivered) == 2


@pytest.mark.parametrize("days_after", [1, 30])
def test_certificates_are_available_from_the_day_after_the_end(db, days_after):
    event = congress_ended_days_ago(days_after)
    assert certificates.congress_over(event, event_today())
    assert not certificates.congress_over(event, event.ends_on)

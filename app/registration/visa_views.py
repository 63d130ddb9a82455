"""Visa invitation letters: the organisers' queue, issue and revoke, the PDF for the delegate
and the organisers, and the public page that checks a letter is genuine."""

from __future__ import annotations

from io import BytesIO

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from app.auth.access import PUBLIC, allow
from app.auth.models import Role
from app.extensions import db, limiter
from app.i18n.formatting import to_event_time
from app.i18n.locale import supported_languages
from app.pagination import paginate
from app.rate_limits import configured_limit
from app.registration import personal_data, visa
from app.registration.models import Registration, RegistrationStatus, VisaLetter
from app.registration.views import (
    bp,
    event_or_404,
    own_registration_or_404,
    registration_or_404,
)
from app.registration.visa_forms import (
    IssueVisaLetterForm,
    RevokeVisaLetterForm,
    VerificationCodeForm,
)
from app.web import run_service, safe_next_url

ORGANISERS = (Role.ORGANISER, Role.ADMIN)
LETTERS_PER_PAGE = 25
QUEUE_VIEWS = ("waiting", "issued")


def _current_letter_or_404(registration: Registration) -> VisaLetter:
    """The registration's current (unrevoked) letter."""
    letter = visa.current_letter(registration)
    if letter is None:
        abort(404)
    return letter


def _downloadable_letter_or_404(registration: Registration) -> VisaLetter:
    """The registration's current letter while it runs (none for an ended registration)."""
    letter = visa.downloadable_letter(registration)
    if letter is None:
        abort(404)
    return letter


def _pdf_response(letter: VisaLetter):
    """The letter as a PDF download that no cache keeps (it carries a passport number)."""
    filename = "visa-letter-" + letter.number.replace("/", "-") + ".pdf"
    response = send_file(
        BytesIO(visa.letter_pdf(letter)),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=filename,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


# --- organisers -----------------------------------------------------------------------------


@bp.get("/registrations/visa-letters")
@allow(*ORGANISERS)
def visa_queue():
    """Registrations waiting for a visa letter (with an issue button), or the letters issued."""
    event = event_or_404()
    showing = request.args.get("show", "waiting")
    if showing not in QUEUE_VIEWS:
        showing = "waiting"
    if showing == "waiting":
        page = paginate(visa.visa_queue(event), per_page=LETTERS_PER_PAGE)
        blockers = {
            registration.id: visa.issue_blocker(registration) for registration in page.items
        }
    else:
        page = paginate(visa.issued_letters(event), per_page=LETTERS_PER_PAGE)
        blockers = {}
    return render_template(
        "registration/visa_queue.html",
        event=event,
        showing=showing,
        page=page,
        blockers=blockers,
        issue_form=IssueVisaLetterForm(formdata=None, next=request.full_path.rstrip("?")),
        masked_passport=personal_data.masked_passport,
        status_label=lambda value: RegistrationStatus(value).label,
    )


@bp.post("/registrations/<reference>/visa-letter/issue")
@allow(*ORGANISERS)
def issue_visa_letter(reference: str):
    """Issue the registration's visa letter with the next number, back to the queue."""
    registration = registration_or_404(reference)
    form = IssueVisaLetterForm()
    back = safe_next_url(form.next.data, url_for("registration.visa_queue"))
    if not form.validate():
        flash(_("The form expired. Please submit it again."), "error")
        return redirect(back)
    issued, letter = run_service(form, visa.issue_visa_letter, registration, actor=current_user)
    if issued:
        flash(
            _(
                "Visa letter %(number)s issued to %(name)s.",
                number=letter.number,
                name=registration.full_name,
            ),
            "success",
        )
    else:
        flash(" ".join(form.form_errors), "error")
    return redirect(back)


@bp.route("/registrations/<reference>/visa-letter/revoke", methods=["GET", "POST"])
@allow(*ORGANISERS)
def revoke_visa_letter(reference: str):
    """Withdraw a registration's current letter, with a reason."""
    registration = registration_or_404(reference)
    letter = _current_letter_or_404(registration)
    form = RevokeVisaLetterForm()
    if form.validate_on_submit():
        revoked, _result = run_service(
            form, visa.revoke_visa_letter, letter, form.reason.data, actor=current_user
        )
        if revoked:
            flash(_("Visa letter %(number)s revoked.", number=letter.number), "success")
            return redirect(url_for("registration.visa_queue", show="issued"))
    return render_template(
        "registration/visa_revoke.html", form=form, letter=letter, registration=registration
    )


@bp.get("/registrations/<reference>/visa-letter.pdf")
@allow(*ORGANISERS)
def visa_letter_pdf(reference: str):
    """A registration's current letter as PDF; the passport number it shows is a logged view."""
    registration = registration_or_404(reference)
    letter = _downloadable_letter_or_404(registration)
    personal_data.log_passport_access(registration, viewer=current_user, purpose="visa_letter")
    db.session.commit()
    return _pdf_response(letter)


# --- the delegate ---------------------------------------------------------------------------


@bp.get("/my/registration/visa-letter.pdf")
@allow(Role.DELEGATE)
def download_visa_letter():
    """The signed-in delegate's own current visa letter as PDF."""
    letter = _downloadable_letter_or_404(own_registration_or_404())
    return _pdf_response(letter)


# --- the public check -----------------------------------------------------------------------


def _result_in_each_language(letter: VisaLetter | None) -> list[tuple[str, Markup]]:
    """The check's result rendered in the page's language first, then in the other ones,
    for an immigration officer who reads either."""
    first = str(get_locale())
    languages = [first, *(code for code in supported_languages() if code != first)]
    revoked_on = to_event_time(letter.revoked_at).date() if letter and letter.revoked_at else None
    sections = []
    for number, code in enumerate(languages):
        with force_locale(code):
            html = render_template(
                "registration/visa_verify_result.html",
                letter=letter,
                revoked_on=revoked_on,
                heading=1 if number == 0 else 2,
            )
        sections.append((code, Markup(html)))  # noqa: S704 (rendered by autoescaping Jinja)
    return sections


@bp.get("/visa/verify")
@allow(PUBLIC)
# A lookup by a secret code: limited so that codes cannot be guessed.
@limiter.limit(configured_limit("VISA_VERIFICATION_RATE_LIMIT"))
def verify_visa_form():
    """Type the code printed on a letter to check it."""
    form = VerificationCodeForm(formdata=request.args if "code" in request.args else None)
    if "code" in request.args and form.validate():
        return redirect(
            url_for("registration.verify_visa_letter", code=visa.normalise_code(form.code.data))
        )
    return render_template("registration/visa_verify.html", form=form, sections=None)


@bp.get("/visa/verify/<code>")
@allow(PUBLIC)
# A lookup by a secret code: limited so that codes cannot be guessed.
@limiter.limit(configured_limit("VISA_VERIFICATION_RATE_LIMIT"))
def verify_visa_letter(code: str):
    """Whether the letter with this code is genuine, revoked or unknown: name, nationality
    and letter number only, in both languages."""
    letter = visa.find_letter_by_code(code)
    response = render_template(
        "registration/visa_verify.html",
        form=VerificationCodeForm(formdata=None),
        sections=_result_in_each_language(letter),
    )
    # Never cached: a revocation must show at once.
    return response, 200 if letter else 404, {"Cache-Control": "no-store"}

"""Sign-in, sign-out, password reset, own account and staff administration."""

from __future__ import annotations

from collections.abc import Callable

from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, logout_user
from sqlalchemy import select

from app.auth import services, sessions, two_factor
from app.auth.access import PUBLIC, SIGNED_IN, allow
from app.auth.forms import (
    ChangePasswordForm,
    CurrentPasswordForm,
    DisableTwoFactorForm,
    EditUserForm,
    EnableTotpForm,
    EnrolTotpForm,
    ForgotPasswordForm,
    InviteStaffForm,
    LoginForm,
    NewPasswordForm,
    ProfileForm,
    ResetTwoFactorForm,
    SecondFactorForm,
)
from app.auth.models import Role, User
from app.extensions import db, limiter
from app.forms import ActionForm
from app.pagination import paginate
from app.rate_limits import configured_limit
from app.web import run_service, safe_next_url

bp = Blueprint("auth", __name__, template_folder="templates")


def _landing_url(user: User) -> str:
    """Where a user goes after signing in."""
    return url_for("reports.dashboard") if user.is_staff else url_for("events.home")


def _client_address() -> str:
    """The address failed sign-ins are counted against (the rate limiter's too)."""
    return request.remote_addr or "unknown"


def _delayed(template: str, form, delay: services.SignInDelayedError, **context):
    """The form again with the wait explained: 429 with Retry-After."""
    db.session.rollback()
    form.form_errors.append(str(delay))
    page = render_template(template, form=form, **context)
    return page, 429, {"Retry-After": str(delay.seconds)}


def _sign_in_again():
    """The half-signed-in state is missing or expired: start over at the password."""
    message = _("Your sign-in took too long or was not started. Please sign in again.")
    return render_template("auth/sign_in_again.html", message=message), 400


def _finish_sign_in(user: User, next_url: str, *, second_factor: bool) -> str:
    """Record the full sign-in (audited with it) and give the user a fresh session; returns
    where they go next. Reached only after the second factor where one is needed."""
    services.complete_sign_in(user)
    db.session.commit()
    sessions.complete_sign_in(user, second_factor=second_factor)
    return safe_next_url(next_url, _landing_url(user))


@bp.route("/login", methods=["GET", "POST"])
@allow(PUBLIC)
@limiter.limit(configured_limit("LOGIN_RATE_LIMIT"), methods=["POST"])
def login():
    """Sign in: email and password, then the second factor where the account has or needs one."""
    if current_user.is_authenticated:
        return redirect(_landing_url(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(
                form.email.data, form.password.data, address=_client_address()
            )
        except services.SignInDelayedError as delay:
            return _delayed("auth/login.html", form, delay)
        next_url = safe_next_url(request.args.get("next"), "")
        if user is not None and not (user.has_two_factor or user.requires_two_factor):
            return redirect(_finish_sign_in(user, next_url, second_factor=False))
        db.session.commit()  # the failure counted, or the password step passed
        if user is None:
            form.form_errors.append(_("Wrong email or password."))
        elif user.has_two_factor:
            sessions.start_pending_sign_in(user, sessions.PENDING_CODE, next_url)
            return redirect(url_for("auth.second_factor"))
        else:
            sessions.start_pending_sign_in(user, sessions.PENDING_ENROLMENT, next_url)
            return redirect(url_for("auth.two_factor_setup"))
    return render_template("auth/login.html", form=form)


@bp.route("/login/code", methods=["GET", "POST"])
@allow(PUBLIC)
@limiter.limit(configured_limit("LOGIN_RATE_LIMIT"), methods=["POST"])
def second_factor():
    """The second step of signing in: a code from the authenticator app or a recovery code."""
    if current_user.is_authenticated:
        return redirect(_landing_url(current_user))
    pending = sessions.pending_sign_in(sessions.PENDING_CODE)
    if pending is None:
        return _sign_in_again()
    user, next_url = pending
    form = SecondFactorForm()
    if form.validate_on_submit():
        try:
            accepted = two_factor.verify_second_factor(
                user, form.code.data, address=_client_address()
            )
        except services.SignInDelayedError as delay:
            return _delayed("auth/second_factor.html", form, delay)
        if accepted:
            return redirect(_finish_sign_in(user, next_url, second_factor=True))
        db.session.commit()  # the failure counted
        form.code.errors.append(_("This code is not valid. Please try again."))
    return render_template("auth/second_factor.html", form=form)


@bp.route("/account/two-factor", methods=["GET", "POST"])
@allow(PUBLIC)
@limiter.limit(configured_limit("LOGIN_RATE_LIMIT"), methods=["POST"])
def two_factor_setup():
    """Set up an authenticator app: required during sign-in for some roles, optional on the
    account page for others. Shows the secret as a QR code and as text."""
    if current_user.is_authenticated:
        user, next_url, signing_in = current_user, url_for("auth.account"), False
    else:
        pending = sessions.pending_sign_in(sessions.PENDING_ENROLMENT)
        if pending is None:
            return _sign_in_again()
        (user, next_url), signing_in = pending, True
    if user.has_two_factor:
        return redirect(url_for("auth.account"))
    # Signing in, the password was typed a moment ago; on the account page it is asked again.
    form = EnrolTotpForm() if signing_in else EnableTotpForm()
    if form.validate_on_submit():
        if signing_in:
            done, codes = run_service(form, two_factor.enrol_during_sign_in, user, form.code.data)
        else:
            done, codes = run_service(
                form,
                two_factor.enable_two_factor,
                user,
                form.code.data,
                password=form.current_password.data,
                address=_client_address(),
            )
        if done:
            if signing_in:
                sessions.complete_sign_in(user, second_factor=True)
                next_url = safe_next_url(next_url, _landing_url(user))
            else:
                # Every other session ended with the change; this one carries on.
                sessions.keep_current_session(user)
                sessions.mark_second_factor_done()
            return _recovery_codes_page(codes, next_url)
    # The secret is made on the first view and kept for the code that will confirm it.
    secret = two_factor.begin_totp_enrolment(user)
    db.session.commit()
    page = render_template(
        "auth/two_factor_setup.html",
        form=form,
        secret=secret,
        qr_code=two_factor.enrolment_qr_code(user, secret),
        signing_in=signing_in,
    )
    status = 422 if form.errors or form.form_errors else 200
    return page, status, {"Cache-Control": "no-store"}


def _recovery_codes_page(codes: list[str], next_url: str):
    """The new recovery codes, shown once and kept out of every cache."""
    page = render_template("auth/recovery_codes.html", codes=codes, next_url=next_url)
    return page, {"Cache-Control": "no-store"}


@bp.post("/logout")
@allow(SIGNED_IN)
def logout():
    """Sign out."""
    services.record_sign_out(current_user)
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("events.home"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@allow(PUBLIC)
@limiter.limit(configured_limit("PASSWORD_RESET_RATE_LIMIT"), methods=["POST"])
def forgot_password():
    """Ask for a password-reset link by email."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        db.session.commit()
        flash(
            _(
                "If an account exists for that address, a reset link is on its way. "
                "Check your inbox."
            ),
            "info",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot_password.html", form=form)


def _choose_password(
    token: str,
    purpose: str,
    set_password: Callable[[User, str], None],
    template: str,
    done_message: str,
):
    """Shared flow of the reset and invitation links: verify the link, set the password with
    the given service."""
    try:
        user = services.user_from_account_link(token, purpose)
    except services.AuthError as error:
        return render_template("auth/link_problem.html", message=str(error)), 400
    form = NewPasswordForm()
    if form.validate_on_submit():
        done, _result = run_service(form, set_password, user, form.password.data)
        if done:
            flash(done_message, "success")
            return redirect(url_for("auth.login"))
    return render_template(template, form=form, user=user)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@allow(PUBLIC)
@limiter.limit(configured_limit("ACCOUNT_LINK_RATE_LIMIT"), methods=["POST"])
def reset_password(token: str):
    """Choose a new password from an emailed link."""
    return _choose_password(
        token,
        services.RESET_PURPOSE,
        services.reset_password,
        "auth/reset_password.html",
        _("Your password has been changed. You can sign in now."),
    )


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@allow(PUBLIC)
@limiter.limit(configured_limit("ACCOUNT_LINK_RATE_LIMIT"), methods=["POST"])
def accept_invitation(token: str):
    """Accept a staff invitation by choosing a password."""
    return _choose_password(
        token,
        services.INVITATION_PURPOSE,
        services.change_password,
        "auth/accept_invitation.html",
        _("Welcome to Kongres. Your password is set: sign in to start."),
    )


@bp.route("/account", methods=["GET", "POST"])
@allow(SIGNED_IN)
def account():
    """One's own name, language, password, second factor and sessions."""
    profile = ProfileForm(prefix="profile", obj=current_user)
    password = ChangePasswordForm(prefix="password")
    if request.method == "POST" and "profile-name" in request.form and profile.validate():
        done, _result = run_service(
            profile,
            services.update_profile,
            current_user,
            name=profile.name.data,
            language=profile.language.data,
        )
        if done:
            flash(_("Your details are saved."), "success")
            return redirect(url_for("auth.account"))
    if request.method == "POST" and "password-password" in request.form and password.validate():
        done, _result = run_service(
            password,
            services.change_own_password,
            current_user,
            current=password.current_password.data,
            new=password.password.data,
            address=_client_address(),
        )
        if done:
            # Every other session ends with the old password; this one carries on.
            sessions.keep_current_session(current_user)
            flash(
                _("Your password has been changed. Your other sessions are signed out."), "success"
            )
            return redirect(url_for("auth.account"))
    return _account_page(profile=profile, password=password)


def _account_page(**forms):
    """The account page with its forms (those given keep their input and errors)."""
    forms.setdefault("profile", ProfileForm(prefix="profile", obj=current_user))
    forms.setdefault("password", ChangePasswordForm(prefix="password"))
    forms.setdefault("codes", CurrentPasswordForm(prefix="codes"))
    forms.setdefault("disable", DisableTwoFactorForm(prefix="disable"))
    recovery_left = (
        two_factor.unused_recovery_codes(current_user) if current_user.has_two_factor else 0
    )
    return render_template(
        "auth/account.html", action=ActionForm(), recovery_left=recovery_left, **forms
    )


@bp.post("/account/sessions/end")
@allow(SIGNED_IN)
def end_other_sessions():
    """Log out everywhere: every other session of the account ends; this one stays."""
    form = ActionForm()
    if form.validate_on_submit():
        services.log_out_everywhere(current_user)
        db.session.commit()
        sessions.keep_current_session(current_user)
        flash(_("You are signed out everywhere else."), "success")
    return redirect(url_for("auth.account"))


@bp.post("/account/recovery-codes")
@allow(SIGNED_IN)
@limiter.limit(configured_limit("LOGIN_RATE_LIMIT"), methods=["POST"])
def regenerate_recovery_codes():
    """Ten new recovery codes, shown once, after the current password; the old ones stop
    working."""
    form = CurrentPasswordForm(prefix="codes")
    if form.validate_on_submit():
        done, codes = run_service(
            form,
            two_factor.regenerate_recovery_codes,
            current_user,
            password=form.current_password.data,
            address=_client_address(),
        )
        if done:
            return _recovery_codes_page(codes, url_for("auth.account"))
    return _account_page(codes=form), 422


@bp.post("/account/two-factor/disable")
@allow(SIGNED_IN)
@limiter.limit(configured_limit("LOGIN_RATE_LIMIT"), methods=["POST"])
def disable_two_factor():
    """Turn one's own second factor off (only where the role does not need one), after the
    current password and a code; every other session ends."""
    form = DisableTwoFactorForm(prefix="disable")
    if form.validate_on_submit():
        done, _result = run_service(
            form,
            two_factor.disable_own_two_factor,
            current_user,
            form.code.data,
            password=form.current_password.data,
            address=_client_address(),
        )
        if done:
            sessions.keep_current_session(current_user)
            flash(
                _("Two-factor sign-in is turned off. Your other sessions are signed out."),
                "success",
            )
            return redirect(url_for("auth.account"))
    return _account_page(disable=form), 422


@bp.get("/staff")
@allow(Role.ADMIN)
def staff_list():
    """Every account, staff first, with their roles."""
    query = select(User).order_by(User.name)
    page = paginate(query, per_page=50)
    return render_template("auth/staff_list.html", page=page)


@bp.route("/staff/invite", methods=["GET", "POST"])
@allow(Role.ADMIN)
def invite_staff():
    """Invite a staff member by email."""
    form = InviteStaffForm()
    if form.validate_on_submit():
        done, user = run_service(
            form,
            services.invite_staff,
            form.email.data,
            form.name.data,
            [Role(value) for value in form.roles.data],
            form.language.data,
            actor=current_user,
        )
        if done:
            flash(_("Invitation sent to %(email)s.", email=user.email), "success")
            return redirect(url_for("auth.staff_list"))
    return render_template("auth/invite_staff.html", form=form)


@bp.route("/staff/<int:user_id>", methods=["GET", "POST"])
@allow(Role.ADMIN)
def edit_user(user_id: int):
    """Change an account's roles or deactivate it."""
    user = db.get_or_404(User, user_id)
    form = EditUserForm(
        data={"roles": [role.value for role in user.roles], "active": user.active}
        if request.method == "GET"
        else None
    )
    if form.validate_on_submit():
        done, _result = run_service(
            form,
            services.update_account,
            user,
            roles=[Role(value) for value in form.roles.data],
            active=form.active.data,
            actor=current_user,
        )
        if done:
            flash(_("Account of %(name)s updated.", name=user.name), "success")
            return redirect(url_for("auth.staff_list"))
    return render_template("auth/edit_user.html", form=form, user=user)


@bp.route("/staff/<int:user_id>/two-factor/reset", methods=["GET", "POST"])
@allow(Role.ADMIN)
def reset_two_factor(user_id: int):
    """Reset an account's second factor (a lost phone), after a confirmation."""
    user = db.get_or_404(User, user_id)
    form = ResetTwoFactorForm()
    if form.validate_on_submit():
        done, _result = run_service(form, two_factor.reset_two_factor, user, actor=current_user)
        if done:
            flash(
                _("The second factor of %(name)s is reset; they are signed out.", name=user.name),
                "success",
            )
            return redirect(url_for("auth.edit_user", user_id=user.id))
    return render_template("auth/reset_two_factor.html", form=form, user=user)

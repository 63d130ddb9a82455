"""Sign-in, sign-out, password reset, own account and staff administration."""

from __future__ import annotations

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
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from app.auth import services
from app.auth.access import PUBLIC, SIGNED_IN, allow
from app.auth.forms import (
    ChangePasswordForm,
    EditUserForm,
    ForgotPasswordForm,
    InviteStaffForm,
    LoginForm,
    NewPasswordForm,
    ProfileForm,
)
from app.auth.models import Role, User
from app.extensions import db, limiter
from app.pagination import paginate
from app.rate_limits import configured_limit
from app.web import run_service, safe_next_url

bp = Blueprint("auth", __name__, template_folder="templates")


def _landing_url(user: User) -> str:
    """Where a user goes after signing in."""
    return url_for("reports.dashboard") if user.is_staff else url_for("events.home")


@bp.route("/login", methods=["GET", "POST"])
@allow(PUBLIC)
@limiter.limit(configured_limit("LOGIN_RATE_LIMIT"), methods=["POST"])
def login():
    """Sign in with email and password."""
    if current_user.is_authenticated:
        return redirect(_landing_url(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            form.form_errors.append(_("Wrong email or password."))
        else:
            # A fresh session on sign-in, so a session id planted before it is worthless.
            session.clear()
            login_user(user)
            db.session.commit()
            return redirect(safe_next_url(request.args.get("next"), _landing_url(user)))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@allow(SIGNED_IN)
def logout():
    """Sign out."""
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


def _choose_password(token: str, purpose: str, template: str, done_message: str):
    """Shared flow of the reset and invitation links: verify the link, set the password."""
    try:
        user = services.user_from_account_link(token, purpose)
    except services.AuthError as error:
        return render_template("auth/link_problem.html", message=str(error)), 400
    form = NewPasswordForm()
    if form.validate_on_submit():
        done, _result = run_service(form, services.change_password, user, form.password.data)
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
        "auth/accept_invitation.html",
        _("Welcome to Kongres. Your password is set: sign in to start."),
    )


@bp.route("/account", methods=["GET", "POST"])
@allow(SIGNED_IN)
def account():
    """One's own name, language and password."""
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
        )
        if done:
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("auth.account"))
    return render_template("auth/account.html", profile=profile, password=password)


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

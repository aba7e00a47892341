"""Signing in and out, and changing one's own password."""

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale, refresh
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from wtforms import SelectChoice

from portal import i18n
from portal.errors import DomainError
from portal.security import client_address, public

from . import service
from .forms import LoginForm, PasswordChangeForm, PreferencesForm

bp = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str | None:
    """Accept only a path on this site as a place to return to after signing in."""
    if not target:
        return None
    target = target.strip().replace("\\", "/")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _start_browser_session(user, token: str) -> None:
    # A fresh cookie on every sign-in: nothing from before survives (fixation) but
    # the language chosen on the sign-in page, which is no secret.
    language = session.get(i18n.SESSION_KEY)
    session.clear()
    if language:
        session[i18n.SESSION_KEY] = language
    session.permanent = True
    user.current_auth_session_token = token
    login_user(user)
    import time

    session["seen"] = int(time.time())


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    """The sign-in form. Wrong e-mail and wrong password get the same answer."""
    next_url = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for("home.index"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        try:
            signed_in = service.sign_in(
                form.email.data,
                form.password.data,
                client_address=client_address(),
                user_agent=request.user_agent.string,
            )
        except DomainError as refused:
            error = refused.message
        else:
            _start_browser_session(signed_in.user, signed_in.session_token)
            return redirect(next_url or url_for("home.index"), code=303)
    status = 200 if error is None and not form.errors else 422 if form.errors else 401
    return render_template("auth/login.html", form=form, error=error, next_url=next_url), status


@bp.post("/logout")
def logout():
    """Sign out: the session is revoked on the server, so the old cookie is worthless."""
    service.end_session(current_user._get_current_object(), client_address=client_address())
    # The sign-in page after it speaks the language the person just used.
    language = str(get_locale())
    message = _("You have signed out.")
    logout_user()
    session.clear()
    session[i18n.SESSION_KEY] = language
    flash(message, "info")
    return redirect(url_for("auth.login"), code=303)


@bp.route("/password", methods=["GET", "POST"])
def change_password():
    """Change one's own password; every other signed-in browser is signed out."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            token = service.change_password(
                user,
                form.current_password.data,
                form.new_password.data,
                client_address=client_address(),
                user_agent=request.user_agent.string,
            )
        except DomainError as refused:
            getattr(form, refused.field or "new_password").errors.append(refused.message)
        else:
            _start_browser_session(user, token)
            flash(_("Your password has been changed. Other browsers were signed out."), "success")
            return redirect(url_for("home.index"), code=303)
    return _profile_page(form, _preferences_form(current_user._get_current_object()))


def _preferences_form(user, formdata=None) -> PreferencesForm:
    form = PreferencesForm(
        formdata=formdata, language=user.language or "", timezone=user.timezone or ""
    )
    form.language.choices = [SelectChoice("", _("— my account's —"))] + [
        SelectChoice(code, name) for code, name in service.language_choices().items()
    ]
    form.timezone.choices = [SelectChoice("", _("— my account's —"))] + [
        SelectChoice(tz, tz) for tz in service.timezone_choices()
    ]
    return form


def _profile_page(password_form: PasswordChangeForm, preferences_form: PreferencesForm):
    """The profile: one's language and time zone, and the password."""
    failed = password_form.errors or preferences_form.errors
    return render_template(
        "auth/password.html", form=password_form, preferences_form=preferences_form
    ), (422 if failed else 200)


@bp.post("/preferences")
def preferences():
    """Choose one's own language and time zone; the next page is in them."""
    user = current_user._get_current_object()
    form = _preferences_form(user, formdata=request.form)
    if form.validate():
        try:
            service.set_own_preferences(
                user, language=form.language.data or None, timezone=form.timezone.data or None
            )
        except DomainError as refused:
            getattr(form, refused.field or "language").errors.append(refused.message)
        else:
            # The flash is read on the next page: written in the language just chosen.
            refresh()
            flash(_("Your language and time zone are saved."), "success")
            return redirect(url_for("auth.change_password"), code=303)
    return _profile_page(PasswordChangeForm(formdata=None), form)

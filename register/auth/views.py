"""Sign-up, e-mail confirmation, sign-in, sign-out and passwords."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from register.auth import sessions
from register.auth.forms import (
    ChangePasswordForm,
    EmailForm,
    ResetPasswordForm,
    SignInForm,
    SignUpForm,
)
from register.database import writes_on_get
from register.extensions import db, limiter
from register.models import User
from register.services import accounts, activity, tokens

blueprint = Blueprint("auth", __name__, url_prefix="/auth")

PUBLIC = {
    "auth.sign_up",
    "auth.check_email",
    "auth.confirm_email",
    "auth.resend_confirmation",
    "auth.sign_in",
    "auth.sign_out",
    "auth.forgot_password",
    "auth.reset_password",
    "auth.two_factor",
    "auth.two_factor_setup",
    "auth.two_factor_qr",
}

SIGN_IN_FAILED = _l(
    "Enter a correct e-mail address and password. After %(failures)d failed attempts "
    "an account is locked for %(minutes)d minutes."
)


def _email_key() -> str:
    """Rate-limit key for per-account limits: the normalised address typed in the form."""
    # The blind index, not the address: the counters (in Redis) hold no personal data.
    email = request.form.get("email", "")[:254]
    return "account:" + User.email.index_of(email).hex()[:32]


def _config_limit(name: str) -> str:
    return str(current_app.config[name])


@blueprint.route("/sign-up", methods=["GET", "POST"])
@limiter.limit(lambda: _config_limit("RATE_LIMIT_SIGN_UP_IP"), methods=["POST"])
def sign_up() -> str | Response:
    """Create a holder's account; the same page follows whether or not the address was known."""
    if current_user.is_authenticated:
        return redirect(url_for("public.index"))
    form = SignUpForm()
    if form.validate_on_submit():
        accounts.sign_up(
            form.full_name.data or "",
            form.email.data or "",
            form.password.data or "",
            str(get_locale() or "ky"),
        )
        return redirect(url_for("auth.check_email"))
    return render_template("auth/sign_up.html", form=form)


@blueprint.get("/check-email")
def check_email() -> str:
    """Tell the visitor to look for the confirmation link."""
    return render_template("auth/check_email.html", form=EmailForm())


@blueprint.get("/confirm")
@writes_on_get
def confirm_email() -> str | Response:
    """Confirm the address from the e-mailed link (the token is in the query string)."""
    user = accounts.confirm_email(request.args.get("token", ""))
    if user is None:
        return render_template("auth/link_invalid.html", form=EmailForm()), 400  # type: ignore[return-value]
    flash(_("Your e-mail address is confirmed. You can now sign in."), "success")
    return redirect(url_for("auth.sign_in"))


@blueprint.post("/confirm/resend")
@limiter.limit(lambda: _config_limit("RATE_LIMIT_RESET_IP"))
@limiter.limit(lambda: _config_limit("RATE_LIMIT_RESET_ACCOUNT"), key_func=_email_key)
def resend_confirmation() -> str | Response:
    """Send the confirmation link again (says the same whether or not the address is known)."""
    form = EmailForm()
    if form.validate_on_submit():
        user = accounts.find_by_email(form.email.data or "")
        if user is not None and not user.email_confirmed and user.is_active:
            accounts.send_confirmation(user)
        return redirect(url_for("auth.check_email"))
    return render_template("auth/check_email.html", form=form)


@blueprint.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(lambda: _config_limit("RATE_LIMIT_SIGN_IN_IP"), methods=["POST"])
@limiter.limit(
    lambda: _config_limit("RATE_LIMIT_SIGN_IN_ACCOUNT"), key_func=_email_key, methods=["POST"]
)
def sign_in() -> str | Response:
    """Check e-mail and password; staff go on to their second factor."""
    form = SignInForm()
    if request.method == "GET":
        form.next.data = sessions.safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(sessions.safe_next(form.next.data) or url_for("public.index"))
    if form.validate_on_submit():
        result = accounts.authenticate(form.email.data or "", form.password.data or "")
        next_path = sessions.safe_next(form.next.data)
        if result.outcome is accounts.SignIn.OK and result.user is not None:
            user = result.user
            if user.is_staff:
                sessions.begin_second_factor(user, next_path)
                if not user.two_factor_enrolled:
                    return redirect(url_for("auth.two_factor_setup"))
                return redirect(url_for("auth.two_factor"))
            sessions.start(user)
            return redirect(next_path or url_for("inbox.index"))
        if result.outcome is accounts.SignIn.UNCONFIRMED:
            resend = EmailForm(formdata=None, email=form.email.data)
            return render_template("auth/unconfirmed.html", form=resend)
        config = current_app.config
        form.form_errors.append(
            str(
                SIGN_IN_FAILED
                % {
                    "failures": config["SIGN_IN_MAX_FAILURES"],
                    "minutes": config["SIGN_IN_LOCKOUT_MINUTES"],
                }
            )
        )
    return render_template("auth/sign_in.html", form=form)


@blueprint.post("/sign-out")
def sign_out() -> Response:
    """End the session (a POST with a CSRF token, so no other site can sign you out)."""
    if current_user.is_authenticated:
        activity.record("auth.signed_out", object_type="user", object_id=str(current_user.id))
    sessions.end()
    flash(_("You have signed out."), "success")
    return redirect(url_for("public.index"))


@blueprint.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit(lambda: _config_limit("RATE_LIMIT_RESET_IP"), methods=["POST"])
@limiter.limit(
    lambda: _config_limit("RATE_LIMIT_RESET_ACCOUNT"), key_func=_email_key, methods=["POST"]
)
def forgot_password() -> str | Response:
    """Ask for a reset link; the answer is the same whether or not the account exists."""
    form = EmailForm()
    if form.validate_on_submit():
        accounts.request_password_reset(form.email.data or "")
        return render_template("auth/reset_sent.html")
    return render_template("auth/forgot_password.html", form=form)


@blueprint.route("/reset-password", methods=["GET", "POST"])
def reset_password() -> str | Response | tuple[str, int]:
    """Choose a new password from a single-use e-mailed link (reset or staff invitation)."""
    token = request.values.get("token", "")
    purpose = request.values.get("purpose", tokens.PASSWORD_RESET)
    user = accounts.user_for_password_token(token, purpose)
    if user is None:
        return render_template("auth/link_invalid.html", form=EmailForm()), 400
    form = ResetPasswordForm()
    form.account_email = user.email or ""
    if form.validate_on_submit():
        accounts.reset_password(user, form.password.data or "")
        flash(_("Your password has been set. You can now sign in."), "success")
        return redirect(url_for("auth.sign_in"))
    return render_template("auth/reset_password.html", form=form, token=token, purpose=purpose)


account_blueprint = Blueprint("account", __name__, url_prefix="/account")


@account_blueprint.route("/password", methods=["GET", "POST"])
def change_password() -> str | Response:
    """Change the password; every other session ends, this one continues."""
    form = ChangePasswordForm()
    form.account_email = current_user.email or ""
    if form.validate_on_submit():
        user = current_user._get_current_object()
        if accounts.change_password(
            user, form.current_password.data or "", form.password.data or ""
        ):
            db.session.flush()
            sessions.start(user)  # re-issue this session under the new counter
            flash(_("Your password has been changed. Other sessions were signed out."), "success")
            return redirect(url_for("account.change_password"))
        form.current_password.errors = [_("The current password is not correct")]
    return render_template("auth/change_password.html", form=form)


@account_blueprint.post("/sign-out-everywhere")
def sign_out_everywhere() -> Response:
    """End every session of the signed-in user, this one included."""
    accounts.sign_out_everywhere(current_user._get_current_object())
    sessions.end()
    flash(_("You have been signed out everywhere."), "success")
    return redirect(url_for("auth.sign_in"))

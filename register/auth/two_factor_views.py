"""Staff two-factor: enrolment with a QR code, the code at every sign-in, recovery codes."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WerkzeugResponse

from register.auth import sessions
from register.auth.forms import TwoFactorForm
from register.auth.views import _config_limit, blueprint
from register.database import writes_on_get
from register.extensions import limiter
from register.services import activity
from register.services import two_factor as totp


def _pending_key() -> str:
    """Rate-limit the second factor per pending account (and so per session)."""
    return "two-factor:" + str(session.get(sessions.PENDING_USER, "none"))


def _sign_in_again() -> WerkzeugResponse:
    """The password step expired (or never happened): back to sign-in, saying why."""
    flash(_("Sign in again: the sign-in step expired."), "error")
    return redirect(url_for("auth.sign_in"))


@blueprint.route("/two-factor", methods=["GET", "POST"])
@limiter.limit(
    lambda: _config_limit("RATE_LIMIT_TWO_FACTOR"), key_func=_pending_key, methods=["POST"]
)
def two_factor() -> str | WerkzeugResponse:
    """Ask a pending staff member for a code from the app (or a recovery code)."""
    user = sessions.pending_user()
    if user is None:
        return _sign_in_again()
    if not user.two_factor_enrolled:
        return redirect(url_for("auth.two_factor_setup"))
    form = TwoFactorForm()
    if form.validate_on_submit():
        code = form.code.data or ""
        if totp.verify_code(user, code):
            next_path = sessions.finish_second_factor(user)
            return redirect(next_path or url_for("inbox.index"))
        if totp.use_recovery_code(user, code):
            activity.record(
                "auth.recovery_code_used", actor=user, object_type="user", object_id=str(user.id)
            )
            next_path = sessions.finish_second_factor(user)
            left = totp.remaining_recovery_codes(user)
            flash(_("You used a recovery code. %(left)d remain.", left=left), "warning")
            return redirect(next_path or url_for("inbox.index"))
        activity.record_security_event(
            "auth.two_factor_failed", object_type="user", object_id=str(user.id)
        )
        form.code.errors = [_("The code is not correct or was already used. Try the next code.")]
    return render_template("auth/two_factor.html", form=form)


@blueprint.route("/two-factor/setup", methods=["GET", "POST"])
@writes_on_get
@limiter.limit(
    lambda: _config_limit("RATE_LIMIT_TWO_FACTOR"), key_func=_pending_key, methods=["POST"]
)
def two_factor_setup() -> str | WerkzeugResponse:
    """First sign-in of a staff member: scan the QR code, then prove it with a code."""
    user = sessions.pending_user()
    if user is None:
        return _sign_in_again()
    if user.two_factor_enrolled:
        return redirect(url_for("auth.two_factor"))
    # The secret waits on the account (encrypted), not in the session cookie, until confirmed.
    secret = user.totp_secret
    if not secret:
        secret = totp.new_secret()
        user.totp_secret = secret
    form = TwoFactorForm()
    if form.validate_on_submit():
        if totp.confirm_enrolment(user, secret, form.code.data or ""):
            codes = totp.new_recovery_codes(user)
            activity.record(
                "auth.two_factor_enrolled", actor=user, object_type="user", object_id=str(user.id)
            )
            next_path = sessions.finish_second_factor(user)
            # Shown once, in this response only: the codes never travel in a cookie.
            return render_template(
                "auth/recovery_codes.html",
                codes=codes,
                next_path=next_path or url_for("inbox.index"),
            )
        form.code.errors = [
            _("The code is not correct. Check the time on your phone and try the next code.")
        ]
    return render_template("auth/two_factor_setup.html", form=form, secret=secret, email=user.email)


@blueprint.get("/two-factor/qr.svg")
def two_factor_qr() -> Response:
    """The enrolment QR code, as SVG, for the pending staff member only."""
    user = sessions.pending_user()
    secret = user.totp_secret if user is not None else None
    if user is None or not secret or user.two_factor_enrolled:
        abort(404)
    svg = totp.qr_svg(totp.provisioning_uri(user, secret))
    response = Response(svg, mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "no-store"
    return response

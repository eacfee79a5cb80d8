"""Who may do what: every route by six roles gives the answer written down here.

`EXPECTATIONS` has one row per endpoint of the URL map; a route added without a row fails
`test_every_route_has_an_expectation`, so nobody adds a page without deciding who may see it.
Each (endpoint, role) pair is its own test with fresh objects (the `db` fixture rolls back), so a
POST that succeeds in one case never changes what another case sees.

The six roles:
    anonymous     not signed in
    holder_own    a holder who owns the route's object (the recipient of the notification)
    holder_other  another holder
    inspector, supervisor, admin   agency staff, signed in past the second factor

An expected answer is a status code, `SIGN_IN` (302 to /auth/sign-in, with `next` for a GET),
or `Redirect(path)` (302 to that path; `{target.id}` and the like name the test's objects).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import url_for

from register.extensions import db
from register.models import Notification, Role, User
from register.services import accounts, tokens
from tests.factories import HolderFactory, NotificationFactory, StaffFactory

ROLES = ("anonymous", "holder_own", "holder_other", "inspector", "supervisor", "admin")
SIGNED_IN = frozenset(ROLES) - {"anonymous"}
SIGN_IN = "sign-in"
FORBIDDEN_TITLE = "You do not have access to this page"


@dataclass(frozen=True)
class Redirect:
    """A 302 to `path` (formatted with the World's objects, e.g. "/admin/staff/{target.id}")."""

    path: str


Expected = int | str | Redirect


@dataclass
class World:
    """The objects of one test: a user per role, a notification and a staff member to manage."""

    holder_own: User
    holder_other: User
    inspector: User
    supervisor: User
    admin: User
    target: User  # the staff member the admin routes act on
    notification: Notification  # holder_own's

    def users(self) -> list[User]:
        """Every user of the world."""
        return [getattr(self, f.name) for f in fields(self) if f.name != "notification"]


def make_world() -> World:
    """Fresh objects for one case."""
    holder_own = HolderFactory(full_name="Own Holder")
    return World(
        holder_own=holder_own,
        holder_other=HolderFactory(full_name="Other Holder"),
        inspector=StaffFactory(role=Role.INSPECTOR),
        supervisor=StaffFactory(role=Role.SUPERVISOR),
        admin=StaffFactory(role=Role.ADMIN),
        target=StaffFactory(role=Role.INSPECTOR, full_name="Target Staff"),
        notification=NotificationFactory(recipient=holder_own),
    )


def row(
    anonymous: Expected,
    holder_own: Expected,
    holder_other: Expected,
    inspector: Expected,
    supervisor: Expected,
    admin: Expected,
) -> dict[str, Expected]:
    """One line of the matrix, in the order of ROLES."""
    return dict(
        zip(ROLES, (anonymous, holder_own, holder_other, inspector, supervisor, admin), strict=True)
    )


def everyone(expected: Expected) -> dict[str, Expected]:
    """The same answer for every role."""
    return dict.fromkeys(ROLES, expected)


@dataclass(frozen=True)
class Route:
    """The answers of one endpoint, and how to call it.

    `url_values` builds the URL (path arguments and query string); `form` is posted with a
    valid CSRF token. When `effect` is given, its value must change for the roles in
    `effect_for` and stay the same for every other role (a refusal changes nothing).
    """

    answers: dict[str, Expected]
    url_values: Callable[[World], dict[str, Any]] = lambda world: {}
    form: Callable[[World], dict[str, Any]] = lambda world: {}
    prepare: Callable[[World], None] | None = None
    effect: Callable[[World], Any] | None = None
    effect_for: frozenset[str] = field(default_factory=frozenset)


def _target(world: World) -> dict[str, Any]:
    return {"user_id": world.target.id}


def _deactivate_target(world: World) -> None:
    world.target.is_active_account = False
    db.session.commit()


def _unconfirm_holder_own(world: World) -> None:
    world.holder_own.email_confirmed_at = None
    db.session.commit()


def _notification_read(world: World) -> bool:
    return world.notification.read_at is not None


def _notifications_of_holder_own(world: World) -> int:
    return db.session.query(Notification).filter_by(recipient_id=world.holder_own.id).count()


def _reset_link(world: World) -> dict[str, Any]:
    payload = {
        "uid": str(world.holder_own.id),
        "pw": tokens.fingerprint(world.holder_own.password_hash),
    }
    return {
        "token": tokens.make_token(tokens.PASSWORD_RESET, payload),
        "purpose": tokens.PASSWORD_RESET,
    }


def _confirmation_link(world: World) -> dict[str, Any]:
    return {"token": accounts.confirmation_token(world.holder_own)}


ADMIN_PAGE = row(SIGN_IN, 403, 403, 403, 403, 200)
ADMIN_ACTION = row(SIGN_IN, 403, 403, 403, 403, Redirect("/admin/staff/{target.id}"))
HOME = Redirect("/")

# fmt: off
EXPECTATIONS: dict[str, Route] = {
    #                           anonymous  holder_own  holder_other  inspector  supervisor  admin
    "static": Route(everyone(200), url_values=lambda world: {"filename": "css/app.css"}),
    "public.index": Route(everyone(200)),
    "public.healthz": Route(everyone(200)),
    "public.readyz": Route(everyone(200)),
    # Public account pages: a signed-in user is sent home from sign-up and sign-in.
    "auth.sign_up": Route(row(200, HOME, HOME, HOME, HOME, HOME)),
    "auth.sign_in": Route(row(200, HOME, HOME, HOME, HOME, HOME)),
    "auth.check_email": Route(everyone(200)),
    "auth.confirm_email": Route(
        everyone(Redirect("/auth/sign-in")), url_values=_confirmation_link
    ),
    "auth.resend_confirmation": Route(
        everyone(Redirect("/auth/check-email")),
        form=lambda world: {"email": world.holder_own.email},
        prepare=_unconfirm_holder_own,
        effect=_notifications_of_holder_own,
        effect_for=frozenset(ROLES),
    ),
    "auth.forgot_password": Route(everyone(200)),
    "auth.reset_password": Route(everyone(200), url_values=_reset_link),
    # Without a pending password step, the second-factor pages send everyone back to sign-in.
    "auth.two_factor": Route(everyone(Redirect("/auth/sign-in"))),
    "auth.two_factor_setup": Route(everyone(Redirect("/auth/sign-in"))),
    "auth.two_factor_qr": Route(everyone(404)),
    # A POST is never replayed after signing in, so anonymous POSTs get no `next`.
    "auth.sign_out": Route(row(HOME, HOME, HOME, HOME, HOME, HOME)),
    "account.change_password": Route(row(SIGN_IN, 200, 200, 200, 200, 200)),
    "account.sign_out_everywhere": Route(
        row(SIGN_IN, *[Redirect("/auth/sign-in")] * 5),
        effect=lambda world: [user.session_version for user in world.users()],
        effect_for=SIGNED_IN,
    ),
    # The inbox: another user's notification is indistinguishable from a missing one.
    "inbox.index": Route(row(SIGN_IN, 200, 200, 200, 200, 200)),
    "inbox.show": Route(
        row(SIGN_IN, 200, 404, 404, 404, 404),
        url_values=lambda world: {"notification_id": world.notification.id},
        effect=_notification_read,
        effect_for=frozenset({"holder_own"}),
    ),
    "inbox.mark_all_read": Route(
        row(SIGN_IN, *[Redirect("/inbox/")] * 5),
        effect=_notification_read,
        effect_for=frozenset({"holder_own"}),
    ),
    # The agency: the activity log for supervisors and admins, staff accounts for admins.
    "activity.index": Route(row(SIGN_IN, 403, 403, 403, 200, 200)),
    "admin.staff_list": Route(ADMIN_PAGE),
    "admin.create_staff": Route(ADMIN_PAGE),
    "admin.staff_member": Route(ADMIN_PAGE, url_values=_target),
    "admin.change_role": Route(
        ADMIN_ACTION,
        url_values=_target,
        form=lambda world: {"role": Role.SUPERVISOR.value},
        effect=lambda world: world.target.role,
        effect_for=frozenset({"admin"}),
    ),
    "admin.deactivate": Route(
        ADMIN_ACTION,
        url_values=_target,
        effect=lambda world: world.target.is_active_account,
        effect_for=frozenset({"admin"}),
    ),
    "admin.reactivate": Route(
        ADMIN_ACTION,
        url_values=_target,
        prepare=_deactivate_target,
        effect=lambda world: world.target.is_active_account,
        effect_for=frozenset({"admin"}),
    ),
    "admin.reset_two_factor": Route(
        ADMIN_ACTION,
        url_values=_target,
        effect=lambda world: (world.target.totp_secret, world.target.session_version),
        effect_for=frozenset({"admin"}),
    ),
    "admin.sign_out_everywhere": Route(
        ADMIN_ACTION,
        url_values=_target,
        effect=lambda world: world.target.session_version,
        effect_for=frozenset({"admin"}),
    ),
}
# fmt: on


def _method(app: Any, endpoint: str) -> str:
    methods: set[str] = set()
    for rule in app.url_map.iter_rules(endpoint):
        methods |= set(rule.methods or ()) - {"HEAD", "OPTIONS"}
    return "GET" if "GET" in methods else sorted(methods)[0]


def _rule_path(app: Any, endpoint: str) -> str:
    return next(iter(app.url_map.iter_rules(endpoint))).rule


def assert_forbidden_page(response: Any) -> None:
    """A 403 is the site's error page, not a stack trace or a bare response."""
    page = response.get_data(as_text=True)
    assert response.mimetype == "text/html"
    assert FORBIDDEN_TITLE in page
    assert "Error 403" in page
    assert 'class="site-header' in page  # in the site's layout
    assert "Traceback" not in page


def assert_answer(
    response: Any, expected: Expected, *, url: str, method: str, world: World
) -> None:
    """Compare a response with the expected answer of the matrix."""
    status = response.status_code
    if expected == SIGN_IN:
        assert status == 302, f"expected a redirect to sign-in, got {status}"
        location = urlsplit(response.headers["Location"])
        assert location.path == "/auth/sign-in"
        # Pages come back after signing in; a POST is not replayed.
        assert parse_qs(location.query) == ({"next": [url]} if method == "GET" else {})
    elif isinstance(expected, Redirect):
        assert status == 302, f"expected a redirect to {expected.path}, got {status}"
        path = expected.path.format(**{f.name: getattr(world, f.name) for f in fields(world)})
        assert urlsplit(response.headers["Location"]).path == path
    else:
        assert isinstance(expected, int)
        assert status == expected, f"expected {expected}, got {status}"
        if expected == 403:
            assert_forbidden_page(response)


def test_every_route_has_an_expectation(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = sorted(endpoints - set(EXPECTATIONS))
    extra = sorted(set(EXPECTATIONS) - endpoints)
    assert not missing and not extra, (
        f"routes without a row in EXPECTATIONS: {missing}; rows without a route: {extra}"
    )


def test_matrix_agrees_with_the_public_allowlist_and_keeps_holders_out_of_the_agency(app):
    public = app.config["PUBLIC_ENDPOINTS"]
    for endpoint, route in EXPECTATIONS.items():
        assert set(route.answers) == set(ROLES), endpoint
        # Deny by default: exactly the endpoints off the allowlist send anonymous to sign-in.
        assert (route.answers["anonymous"] == SIGN_IN) == (endpoint not in public), endpoint
        if endpoint not in app.view_functions:
            continue
        if _rule_path(app, endpoint).startswith(("/admin", "/agency")):
            assert route.answers["holder_own"] == 403, endpoint
            assert route.answers["holder_other"] == 403, endpoint
            assert route.answers["inspector"] == 403, endpoint


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", sorted(EXPECTATIONS))
def test_route_answers_each_role_as_expected(app, client, auth, endpoint, role):
    if endpoint not in app.view_functions:
        pytest.fail(f"{endpoint} has a row in EXPECTATIONS but no route")
    route = EXPECTATIONS[endpoint]
    world = make_world()
    if route.prepare:
        route.prepare(world)
    with app.test_request_context():
        url = url_for(endpoint, **route.url_values(world))
    if role != "anonymous":
        auth.login(getattr(world, role))
    with client.session_transaction() as session:
        session["lang"] = "en"
    before = route.effect(world) if route.effect else None

    method = _method(app, endpoint)
    if method == "GET":
        response = client.get(url)
    else:
        data = {"csrf_token": client.csrf_token(), **route.form(world)}
        response = client.open(url, method=method, data=data)

    assert_answer(response, route.answers[role], url=url, method=method, world=world)
    response.close()
    if route.effect:
        db.session.expire_all()
        after = route.effect(world)
        if role in route.effect_for:
            assert after != before, f"{role}: {endpoint} should have changed something"
        else:
            assert after == before, f"{role}: {endpoint} changed something it must not"


def test_json_clients_get_problem_details_on_a_private_endpoint(client, auth):
    json = {"Accept": "application/json"}
    anonymous = client.get("/admin/staff", headers=json)
    assert anonymous.status_code == 401
    assert anonymous.mimetype == "application/problem+json"
    assert anonymous.get_json()["status"] == 401
    assert "Location" not in anonymous.headers

    auth.login(HolderFactory())
    holder = client.get("/admin/staff", headers=json)
    assert holder.status_code == 403
    assert holder.mimetype == "application/problem+json"
    assert holder.get_json()["title"] == FORBIDDEN_TITLE

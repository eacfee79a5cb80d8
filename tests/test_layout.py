"""The base layout, the language switcher and the form macros."""

from __future__ import annotations

from flask import render_template_string
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from tests.factories import NotificationFactory, UserFactory


def test_layout_has_skip_link_service_name_switcher_and_footer(client):
    page = client.get("/").get_data(as_text=True)
    assert '<a href="#main-content" class="skip-link">' in page
    assert 'id="main-content"' in page
    assert "Register of Personal Data Holders" in page
    for code in ("ky", "ru", "en"):
        assert f'lang="{code}"' in page
    assert 'role="contentinfo"' in page


def test_language_choice_is_applied_and_remembered(client):
    assert '<html lang="ru">' in client.get("/?lang=ru").get_data(as_text=True)
    assert '<html lang="ru">' in client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in client.get("/?lang=en").get_data(as_text=True)
    # An unknown language is ignored, the remembered one stays.
    assert '<html lang="en">' in client.get("/?lang=xx").get_data(as_text=True)


def test_browser_language_is_used_when_none_was_chosen(client):
    page = client.get("/", headers={"Accept-Language": "ru-RU,ru;q=0.9"}).get_data(as_text=True)
    assert '<html lang="ru">' in page
    page = client.get("/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert '<html lang="ky">' in page  # the default


def test_header_shows_the_signed_in_user_and_unread_count(client, auth):
    user = UserFactory(full_name="Aida Example")
    NotificationFactory(recipient=user)
    auth.login(user)
    page = client.get("/").get_data(as_text=True)
    assert "Aida Example" in page
    assert ">1</span>" in page
    assert 'href="/inbox/"' in page


def test_static_assets_are_served_locally(client):
    page = client.get("/").get_data(as_text=True)
    for asset in ("/static/css/app.css", "/static/js/app.js", "/static/img/logo.svg"):
        assert asset in page
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert len(response.data) > 100


class ExampleForm(FlaskForm):
    organisation_name = StringField(
        "Organisation name", validators=[DataRequired("Enter the organisation's name")]
    )
    short_name = StringField("Short name", validators=[Length(max=5, message="Too long")])


TEMPLATE = """{% import "macros/forms.html" as forms %}
{{ forms.error_summary(form) }}
{{ forms.field(form.organisation_name, hint="As in the state register") }}
{{ forms.field(form.short_name) }}"""


def test_form_macros_show_errors_on_top_and_beside_fields_and_keep_input(app):
    with app.test_request_context(
        "/", method="POST", data={"organisation_name": "", "short_name": "Far too long"}
    ):
        form = ExampleForm(meta={"csrf": False})
        assert not form.validate()
        html = render_template_string(TEMPLATE, form=form)
    assert "There is a problem" in html
    assert '<a href="#organisation_name">Enter the organisation&#39;s name</a>' in html
    assert '<a href="#short_name">Too long</a>' in html
    assert 'id="organisation_name-error"' in html
    assert 'aria-describedby="organisation_name-hint organisation_name-error"' in html
    assert 'aria-invalid="true"' in html
    assert 'value="Far too long"' in html  # what the user typed is kept
    assert "(optional)" in html  # short_name is not required


def test_form_macros_without_errors_show_no_summary(app):
    with app.test_request_context("/"):
        form = ExampleForm(meta={"csrf": False})
        html = render_template_string(TEMPLATE, form=form)
    assert "There is a problem" not in html
    assert "aria-invalid" not in html

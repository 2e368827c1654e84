"""What keeps the hosted pages cheap (README, Performance; bench/login.py measures the time):
the sign-in page reads the tenant's MFA facts kept per process, `{% translate %}` of a literal
is rendered once per language, `{% url %}` of a name without arguments is reversed once per
URLconf, and a session signed in with MFA reads its verified device only
when something asks; a plain input's field group is written without rendering the field
template, and the language switcher is rendered once per language by each process."""

from __future__ import annotations

from django.db import connection
from django.template import Context, Engine, engines
from django.template import defaulttags as django_tags
from django.template.library import Library
from django.templatetags import i18n as django_i18n
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django_tenants.utils import tenant_context

from ciam.i18n_kept import KeptTranslateNode
from mfa.models import MfaPolicy
from tests.helpers import tenant_client
from tests.mfa.helpers import code_for, make_user, password_step, set_policy, with_authenticator

PASSKEY_SCRIPT = "js/passkeys.js"


def test_the_sign_in_page_offers_passkeys_without_asking_the_database(acme):
    set_policy(acme, requirement=MfaPolicy.Requirement.OPTIONAL, passkey_allowed=True)
    tenant_client(acme).get("/accounts/login/")  # the process reads the tenant's facts once
    with CaptureQueriesContext(connection) as queries:
        page = tenant_client(acme).get("/accounts/login/")
    assert page.status_code == 200
    assert PASSKEY_SCRIPT in page.content.decode()
    # The mfa app's tables (not a column such as federation's saml_mfa_contexts).
    mfa_tables = ('FROM "mfa_', 'JOIN "mfa_')
    assert [q["sql"] for q in queries if any(table in q["sql"] for table in mfa_tables)] == []

    # The admin turns passkeys off: the next sign-in page no longer offers them.
    set_policy(acme, passkey_allowed=False)
    assert PASSKEY_SCRIPT not in tenant_client(acme).get("/accounts/login/").content.decode()


def test_my_account_after_an_mfa_sign_in_reads_no_device_but_the_session_stays_verified(acme):
    set_policy(acme, requirement=MfaPolicy.Requirement.REQUIRED_ALL)
    user = make_user(acme)
    device = with_authenticator(acme, user)
    client = tenant_client(acme)
    challenge = password_step(client, user)["Location"]
    answer = client.post(challenge, {"code": code_for(device), "method": "totp"})
    assert answer["Location"] == "/account/"

    with CaptureQueriesContext(connection) as queries:
        page = client.get("/account/")
    assert page.status_code == 200 and user.email in page.content.decode()
    assert [query["sql"] for query in queries if "mfa_totpdevice" in query["sql"]] == []

    # Asked (as the console and the operator pages ask), the device is read and checked.
    with CaptureQueriesContext(connection) as queries:
        assert page.wsgi_request.user.is_verified()
    assert any("mfa_totpdevice" in query["sql"] for query in queries)
    assert page.wsgi_request.user.otp_device.pk == device.pk


def test_a_session_whose_device_was_removed_is_not_verified(acme):
    set_policy(acme, requirement=MfaPolicy.Requirement.REQUIRED_ALL)
    user = make_user(acme)
    device = with_authenticator(acme, user)
    client = tenant_client(acme)
    challenge = password_step(client, user)["Location"]
    client.post(challenge, {"code": code_for(device), "method": "totp"})
    with tenant_context(acme.tenant):
        device.delete()
    page = client.get("/account/")
    # The session still names the device until something asks; asked, it is refused.
    assert not page.wsgi_request.user.is_verified()
    assert page.wsgi_request.user.otp_device is None


SOURCES = [
    '{% load i18n %}{% translate "Yes" %}|{% translate "No" as no %}{{ no }}|'
    '{% translate "Yes" noop %}|{% translate word %}|{% translate "May" context "month name" %}',
    '{% load i18n %}{% translate "a < b" %}|{% autoescape off %}{% translate "a < b" %}'
    "{% endautoescape %}|{% translate word %}",
    '{% load i18n %}{% translate "100%% sure" %}|{% trans "Yes"|upper %}',
]


# Django's own i18n library, translate tag included, for comparison (`register`: an Engine
# loads this module as its `i18n` library).
register = Library()
register.tags.update(django_i18n.register.tags)
register.filters.update(django_i18n.register.filters)
register.tag("translate", django_i18n.do_translate)
register.tag("trans", django_i18n.do_translate)
register.tag("url", django_tags.url)  # Django's `{% url %}` (the built-in one is ours)


def _django_engine():
    return Engine(libraries={"i18n": __name__})


def test_translate_is_kept_per_language_and_renders_as_django_does():
    ours = engines["django"]
    reference = _django_engine()
    for source in SOURCES:
        template = ours.from_string(source)
        expected = reference.from_string(source)
        for _ in range(2):  # the second time from what the nodes kept
            for language in ("en", "fr", "en"):
                for word in ("No", "<b>"):
                    with translation.override(language):
                        context = {"word": word}
                        assert template.render(context) == expected.render(Context(context))

    template = ours.from_string(SOURCES[0])
    nodes = template.template.nodelist.get_nodes_by_type(KeptTranslateNode)
    assert len(nodes) == 5  # `{% load i18n %}` gives ours (ciam.i18n_kept)
    with translation.override("en"):
        english = template.render({"word": "No"})
    with translation.override("fr"):
        french = template.render({"word": "No"})
    assert english.startswith("Yes|No|") and not french.startswith("Yes|No|")
    assert nodes[0].kept  # a literal is kept...
    assert not nodes[3].keepable and not nodes[4].keepable  # ...a variable or a context is not


def test_the_sign_in_page_writes_its_inputs_without_the_field_template(acme):
    page = tenant_client(acme).get("/accounts/login/")
    assert page.status_code == 200
    names = [template.name for template in page.templates]
    assert "account/login.html" in names and "forms/field.html" not in names
    html = page.content.decode()
    assert '<label class="form-label" for="id_login">' in html
    assert '<input type="password" name="password"' in html


def test_a_plain_input_s_field_group_is_the_field_template_s_markup():
    from django import forms
    from django.forms.utils import RenderableMixin

    class Form(forms.Form):
        name = forms.CharField(help_text="Your <b>full</b> name & title")
        email = forms.EmailField(required=False, label="Email <work>")
        secret = forms.CharField(widget=forms.PasswordInput, max_length=5)
        count = forms.IntegerField(min_value=3)
        agree = forms.BooleanField(required=False)  # a check: the template's
        colour = forms.ChoiceField(choices=[("r", "Red")], widget=forms.RadioSelect)

    cases = (None, {"name": "", "email": "x<y", "secret": "far too long", "count": "1"})
    for data in cases:
        for language in ("en", "fr"):
            with translation.override(language):
                form = Form(data, prefix="p" if data else None)
                for name in form.fields:
                    field = form[name]
                    # Django's own rendering of forms/field.html (RenderableMixin.render).
                    assert field.as_field_group() == RenderableMixin.render(field), name


def test_the_language_switcher_is_rendered_once_per_language_by_a_process(acme):
    from ciam.templatetags import ciam_layout

    ciam_layout._switchers.clear()
    switcher = "includes/language_switcher.html"
    first = tenant_client(acme).get("/accounts/login/")
    again = tenant_client(acme).get("/accounts/login/")
    assert switcher in [template.name for template in first.templates]
    assert switcher not in [template.name for template in again.templates]
    assert 'id="language-switcher"' in again.content.decode()
    french = tenant_client(acme).get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="fr")
    assert switcher in [template.name for template in french.templates]
    assert '<option value="fr" lang="fr" selected>' in french.content.decode()
    assert '<option value="en" lang="en" selected>' in again.content.decode()


URL_SOURCES = [
    "{% url 'language-switch' %}|{% url 'accounts:my-account' as mine %}[{{ mine }}]|"
    "{% url name %}",
    "{% url 'no-such-page' as missing %}[{{ missing }}]|{% autoescape off %}"
    "{% url 'language-switch' %}{% endautoescape %}",
]


def test_url_is_kept_per_urlconf_and_renders_as_django_does(settings):
    from django.urls import set_urlconf

    from ciam.url_kept import KeptURLNode

    ours = engines["django"]
    reference = Engine(builtins=[__name__])  # this module's library: Django's `url` tag
    templates = [ours.from_string(source) for source in URL_SOURCES]
    for source, template in zip(URL_SOURCES, templates, strict=True):
        expected = reference.from_string(source)
        for _ in range(2):  # the second time from what the nodes kept
            for urlconf in (settings.ROOT_URLCONF, settings.PUBLIC_SCHEMA_URLCONF):
                set_urlconf(urlconf)
                try:
                    context = {"name": "language-switch"}
                    assert template.render(context) == expected.render(Context(context))
                finally:
                    set_urlconf(None)

    nodes = templates[0].template.nodelist.get_nodes_by_type(django_tags.URLNode)
    assert [type(node) for node in nodes] == [KeptURLNode] * 3
    assert nodes[0].kept and nodes[1].kept  # a literal name is kept...
    assert not nodes[2].keepable  # ...a variable is not


def test_a_worker_s_warm_up_asks_nothing_of_the_database():
    # ciam/wsgi.py runs it as a worker starts: a database down then must not stop the worker.
    # Without the `db` fixture, pytest-django refuses any database access.
    from ciam.warm_up import warm_up

    warm_up()

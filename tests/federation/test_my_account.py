"""My account > Linked identities: listed, unlinked, never the last way to sign in."""

from __future__ import annotations

from allauth.socialaccount.models import SocialAccount
from django_tenants.utils import tenant_context

from audit.models import AuditEvent
from tests.federation.helpers import create_provider
from tests.helpers import make_user, save_flow

PAGE = "/account/identities/"


def _link(world, user, provider, subject="upstream-subject-1"):
    with tenant_context(world.tenant):
        return SocialAccount.objects.create(
            user=user, provider=provider.slug, uid=subject,
            extra_data={"userinfo": {"email": "ada@upstream.example"}},
        )  # fmt: skip


def test_linked_identities_are_listed_and_can_be_unlinked(acme):
    provider = create_provider(acme, name="Upstream")
    user = make_user(acme)
    _link(acme, user, provider)
    client = acme.client(user)

    page = client.get(PAGE).content.decode()
    assert "Upstream" in page and "ada@upstream.example" in page
    assert "Linked identities" in client.get("/account/").content.decode()

    response = client.post(
        f"{PAGE}unlink/", {"provider": provider.slug, "subject": "upstream-subject-1"}
    )

    assert response.status_code == 303
    with tenant_context(acme.tenant):
        assert not SocialAccount.objects.filter(user=user).exists()
        event = AuditEvent.objects.get(action="identity.unlink")
    assert event.before == {"provider": provider.slug, "subject": "upstream-subject-1"}


def test_the_last_way_to_sign_in_cannot_be_unlinked(acme):
    provider = create_provider(acme, name="Only way")
    user = make_user(acme)
    with tenant_context(acme.tenant):
        user.set_unusable_password()
        user.save()
    _link(acme, user, provider)
    save_flow(acme, email_code_enabled=None)
    client = acme.client(user)

    response = client.post(
        f"{PAGE}unlink/", {"provider": provider.slug, "subject": "upstream-subject-1"}, follow=True
    )

    assert "This is your only way to sign in" in response.content.decode()
    with tenant_context(acme.tenant):
        assert SocialAccount.objects.filter(user=user).exists()


def test_someone_elses_identity_cannot_be_unlinked(acme):
    provider = create_provider(acme)
    owner, other = make_user(acme), make_user(acme)
    _link(acme, owner, provider)

    response = acme.client(other).post(
        f"{PAGE}unlink/", {"provider": provider.slug, "subject": "upstream-subject-1"}
    )

    assert response.status_code == 404
    with tenant_context(acme.tenant):
        assert SocialAccount.objects.filter(user=owner).exists()


def test_enabled_providers_not_linked_yet_are_offered_to_link(acme):
    create_provider(acme, name="Offered")
    client = acme.client(make_user(acme))

    page = client.get(PAGE).content.decode()

    assert "Link Offered" in page and 'name="process" value="connect"' in page
    assert acme.client().get(PAGE).status_code == 302  # signed-out visitors sign in first


def test_the_link_page_without_a_pending_link_says_so(acme):
    response = acme.client().get(f"{PAGE}link/")

    assert response.status_code == 400
    assert "Nothing to link" in response.content.decode()

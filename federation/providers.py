"""allauth's OAuth 2.0 and OpenID Connect providers as federation uses them: each provider
allauth builds for a request gets the mixins below (federation.adapter's get_provider).

- The `nonce` of OpenID Connect sign-ins (federation.nonce).
- The sign-in's state (the `state` parameter, PKCE verifier, nonce, where to go next) is
  written with the button's response. allauth's stash writes the session at once, reads it
  back and writes it again when the response leaves: three statements for one write. The
  callback still consumes the state as allauth does (written at once, single use).
- The linked account is looked up with its user in one query and its extra data updated with
  one UPDATE of the fields that change; a sign-in then knows its user exists (allauth asks
  the database again)."""

from __future__ import annotations

import time

from allauth.core import context
from allauth.socialaccount import signals
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.internal import statekit
from allauth.socialaccount.models import SocialAccount, SocialLogin
from allauth.socialaccount.providers.oauth2.provider import OAuth2Provider
from django.utils import timezone

from federation.nonce import NONCE_PROVIDERS, NonceRedirectMixin

_classes: dict[type, type] = {}


class LinkedSocialLogin(SocialLogin):
    """allauth's SocialLogin, whose lookup of the linked account costs one SELECT and one
    UPDATE (allauth: three statements and a fourth to learn that the user it read exists)."""

    _user_pk_read = None

    def _lookup_by_socialaccount(self) -> bool:
        from federation.adapter import token_values_drop

        account = (
            SocialAccount.objects.select_related("user")
            .filter(provider=self.account.provider, uid=self.account.uid)
            .first()
        )
        if account is None:
            return False
        # Before the adapter's pre_social_login drops them: this UPDATE must not store them.
        token_values_drop(self.account.extra_data)
        account.extra_data = self.account.extra_data
        account.last_login = timezone.now()
        SocialAccount.objects.filter(pk=account.pk).update(
            extra_data=account.extra_data, last_login=account.last_login
        )
        self.account, self.user = account, account.user
        self._user_pk_read = account.user.pk
        signals.social_account_updated.send(
            sender=SocialLogin, request=context.request, sociallogin=self
        )
        self._store_token()
        return True

    @property
    def is_existing(self) -> bool:
        """The user read with the linked account in this request exists."""
        user = self.user
        if user is not None and user.pk is not None and user.pk == self._user_pk_read:
            return True
        return super().is_existing


class SignInMixin:
    def stash_redirect_state(
        self, request, process, next_url=None, data=None, state_id=None, **kwargs
    ) -> str:
        """allauth's stash_redirect_state (statekit.stash_state), written by the response."""
        state = {"process": process, "data": data, **kwargs}
        if next_url:
            state["next"] = next_url
        states = statekit.get_states(request)
        statekit.gc_states(states)
        if state_id is None:
            state_id = get_adapter().generate_state_param(state)
        states[state_id] = (state, time.time(), self.sub_id)
        request.session[statekit.STATES_SESSION_KEY] = states
        return state_id

    def sociallogin_from_response(self, request, response):
        sociallogin = super().sociallogin_from_response(request, response)
        sociallogin.__class__ = LinkedSocialLogin
        return sociallogin


def federated_provider(provider):
    """`provider` (allauth's, built for one request) with federation's mixins: every OAuth
    2.0 provider gets SignInMixin, those whose ID token is read the nonce as well. Others
    (SAML: federation.saml) are left as they are."""
    cls = type(provider)
    if not isinstance(provider, OAuth2Provider) or issubclass(cls, SignInMixin):
        return provider
    if cls not in _classes:
        mixins = (SignInMixin,)
        if provider.id in NONCE_PROVIDERS:
            mixins = (NonceRedirectMixin, SignInMixin)
        _classes[cls] = type(f"Federated{cls.__name__}", (*mixins, cls), {})
    provider.__class__ = _classes[cls]
    return provider

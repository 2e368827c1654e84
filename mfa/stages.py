"""MFA in sign-in: an allauth login stage after conditional access and email verification
(accounts.sign_in.stages.LOGIN_STAGES).

A user with an authenticator app is asked for a code (or another allowed method: recovery code,
emailed code); a user the policy requires MFA of, without an app, sets one up as part of the
sign-in. Once the stage passed and allauth logged the user in, `mfa_sign_in_complete` marks
the session verified for django-otp (request.user.is_verified()) and tells the sign-in log
which method served (request.mfa_method, read by the adapter's post_login).

A conditional access policy requiring MFA (conditional_access.requirements.requirements_for)
makes the stage ask, or set a method up, whatever the tenant's MFA policy says; one requiring
a passkey accepts only a passkey. A sign-in begun with a passkey with user verification
(mfa.passkey_views.sign_in) already proved two factors: the stage does not ask again, and
marks the session verified with that passkey.

A browser remembered after an earlier second factor (mfa.remember, when the policy allows
it) is not asked.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from allauth.account.stages import LoginStage
from django.db import connection
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django_tenants.utils import get_public_schema_name

from conditional_access.requirements import requirements_for
from federation.mfa_trust import upstream_mfa_accept
from mfa.models import Method, MfaPolicy
from mfa.selectors import (
    has_passkey,
    reregistration_pending,
    tenant_mfa,
    user_factors_set_up,
    user_second_factors,
)
from mfa.sign_in import KEY, passkey_first_factor


class MfaStage(LoginStage):
    key = KEY
    urlname = "mfa:authenticate"

    def handle(self):
        from accounts.sign_in.stages import sign_in_method

        login = self.login
        user = login.user
        # The platform host has no MFA tables; a sign-up proves its address first (the next
        # sign-in asks), so that no one sets a second factor on an address not yet theirs.
        if connection.schema_name == get_public_schema_name() or user is None or login.signup:
            return None, True
        passkey = passkey_first_factor(self.request, user)
        if passkey is not None:
            self.request.mfa_verified = passkey
            return None, True
        facts = tenant_mfa()
        policy = facts.policy
        # A conditional access policy may require MFA, or a passkey, of this sign-in whatever
        # the tenant's MFA policy says (conditional_access.stages ran before this stage).
        required = requirements_for(login)
        again = reregistration_pending(user, facts)
        if "passkey" in required:
            return self._passkey_required(sign_in_method, again=again)
        # An IdP the tenant trusts for MFA said this sign-in used it (federation.mfa_trust).
        upstream = upstream_mfa_accept(self.request, user)
        if upstream is not None:
            self.request.mfa_verified = upstream
            return None, True
        if again and not policy.is_off:
            return self._register_again(sign_in_method, policy)
        required_by_access = "mfa" in required
        if policy.is_off and not required_by_access:
            return None, True
        # No statement while nobody in the tenant has an app or a passkey the policy allows.
        wanted = (policy.totp_allowed and facts.any_authenticator) or (
            policy.passkey_allowed and facts.any_passkey
        )
        present = user_factors_set_up(user)[0] if wanted else frozenset()
        has_totp = policy.totp_allowed and facts.any_authenticator and Method.TOTP in present
        has_key = policy.passkey_allowed and facts.any_passkey and Method.PASSKEY in present
        if not (has_totp or has_key) and not (required_by_access or policy.is_required_for(user)):
            return None, True
        if wanted:
            # For the challenge's pages, which would otherwise read them again on each request
            # (available_methods says why that holds).
            self.state["factors"] = sorted(present)
        self.state["primary_method"] = sign_in_method(self.request, user, is_signup=False)
        self.state["attempt"] = secrets.token_urlsafe(24)
        if (has_totp or has_key) and _remembered(self.request, user, policy):
            return None, True
        if has_totp or has_key:
            self.state["mode"] = "authenticate"
            return HttpResponseRedirect(stage_url("mfa:authenticate", login)), True
        if policy.totp_allowed:
            self.state["mode"] = "enrol"
            return HttpResponseRedirect(stage_url("mfa:enrol", login)), True
        if Method.EMAIL_CODE in available_methods(self, policy):
            self.state["mode"] = "authenticate"
            return HttpResponseRedirect(stage_url("mfa:authenticate", login)), True
        # Required, but no method this user can use is allowed: the policy form prevents it.
        return None, True

    def _register_again(self, sign_in_method, policy: MfaPolicy):
        """An administrator asked this user to register their second factors again
        (mfa.services.reregistration_require): the ones they have do not count, a remembered
        browser neither; they set up an authenticator app now (which removes the old ones),
        or, where apps are not allowed, prove an emailed code and add a passkey in My account."""
        user = self.login.user
        self.state["again"] = True  # the set-up page says why
        self.state["primary_method"] = sign_in_method(self.request, user, is_signup=False)
        self.state["attempt"] = secrets.token_urlsafe(24)
        if policy.totp_allowed:
            self.state["mode"] = "enrol"
            return HttpResponseRedirect(stage_url("mfa:enrol", self.login)), True
        if Method.EMAIL_CODE in available_methods(self, policy):
            self.state["mode"] = "authenticate"
            return HttpResponseRedirect(stage_url("mfa:authenticate", self.login)), True
        return None, True

    def _passkey_required(self, sign_in_method, *, again: bool = False):
        """Only a passkey serves; a user without one is stopped with a page that says how
        to get one (a sign-in begun with a passkey never reaches this). Passkeys an
        administrator asked to register again do not serve."""
        from conditional_access.blocking import blocked_page
        from conditional_access.stages import app_of_sign_in

        login, user = self.login, self.login.user
        if again or not has_passkey(user):
            return blocked_page(
                self.request,
                user=user,
                email=login.email or user.email,
                method=sign_in_method(self.request, user, is_signup=False),
                app=app_of_sign_in(login.redirect_url),
                message=_(
                    "Your organization requires a passkey for this sign-in. Add one in My "
                    "account, under Security, from a device this policy allows, or ask your "
                    "administrator."
                ),
            ), False
        self.state["primary_method"] = sign_in_method(self.request, user, is_signup=False)
        self.state["attempt"] = secrets.token_urlsafe(24)
        self.state["passkey_only"] = True
        self.state["mode"] = "authenticate"
        return HttpResponseRedirect(stage_url("mfa:authenticate", login)), True


def _remembered(request, user, policy: MfaPolicy) -> bool:
    """A browser remembered after an earlier second factor (mfa.remember): the sign-in goes
    on, verified for django-otp by the authenticator app, and the log says "remembered"."""
    from allauth.account.internal.flows.login import record_authentication

    from mfa.models import PasskeyDevice, TOTPDevice
    from mfa.remember import is_remembered

    if not is_remembered(request, user=user, days=policy.remember_browser_days):
        return False
    device = (
        TOTPDevice.objects.filter(user=user, confirmed=True).first()
        or PasskeyDevice.objects.filter(user=user).first()
    )
    if device is None:
        return False
    request.mfa_verified = {
        "method": Method.REMEMBERED,
        "device": device.persistent_id,
        "user": str(user.pk),
    }
    record_authentication(request, user, method="mfa", type=Method.REMEMBERED)
    return True


def stage_url(name: str, login, **params) -> str:
    """A stage page's URL, carrying the sign-in's `next`: the page's CSP then lets its form
    lead on to the app that asked (oidc.form_action.SignInForAppMiddleware)."""
    if login.redirect_url:
        params["next"] = login.redirect_url
    url = reverse(name)
    return f"{url}?{urlencode(params)}" if params else url


def available_methods(stage: LoginStage, policy: MfaPolicy) -> list[str]:
    """The second factors this sign-in may use, in the order offered.

    Which ones the person has set up is what the stage found in the request that began the
    sign-in (state "factors"), not read again on each page: the policy is still read per
    request (`policy`), a method removed since is refused when used (mfa.services.mfa_verify
    finds no device, a passkey no credential), and a re-registration asked since shows in the
    tenant's per-process facts, and then they are read again (none while one is pending)."""
    if stage.state.get("passkey_only"):  # a conditional access policy requires a passkey
        return [Method.PASSKEY] if has_passkey(stage.login.user) else []
    kept = stage.state.get("factors")
    present = None if kept is None or tenant_mfa().any_reregistration else frozenset(kept)
    return user_methods(
        stage.login.user, policy, primary_method=stage.state.get("primary_method"),
        present=present,
    )  # fmt: skip


def user_methods(
    user, policy: MfaPolicy, *, primary_method: str | None, present: frozenset[str] | None = None
) -> list[str]:
    """The second factors `user` may prove, in the order offered, after a first factor
    proved by `primary_method` (a sign-in, or a step-up of a signed-in session); `present`,
    those set up, when the caller knows them (else read)."""
    allowed = policy.allowed_methods
    if present is None:
        present = user_second_factors(user)
    methods = []
    if Method.TOTP in allowed and Method.TOTP in present:
        methods.append(Method.TOTP)
    if Method.PASSKEY in allowed and Method.PASSKEY in present:
        methods.append(Method.PASSKEY)
    # An emailed code after an emailed code proves nothing more.
    if Method.EMAIL_CODE in allowed and user.email and primary_method != "email_code":
        methods.append(Method.EMAIL_CODE)
    # Recovery codes back up an authenticator app or passkeys.
    if (
        Method.RECOVERY_CODE in allowed
        and (Method.TOTP in methods or Method.PASSKEY in methods)
        and Method.RECOVERY_CODE in present
    ):
        methods.append(Method.RECOVERY_CODE)
    return methods

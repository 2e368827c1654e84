from __future__ import annotations

from allauth.account import views as allauth_views
from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import Resolver404, get_resolver, get_urlconf, resolve, reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts import selectors, services
from accounts.forms import LanguageForm, ProfileForm, attribute_values
from ciam.http import url_with_next
from ciam.locale import forget_language_choice, language_remember

# The consent-revocation page of the OpenID Connect provider, linked when it exists.
APPS_PAGE_PATH = "/account/apps/"


def home(request):
    """The tenant's hosted home page."""
    return render(request, "accounts/home.html")


def _profile_attributes(request) -> list:
    """The attributes a user keeps on their profile: those the tenant's sign-up collects from
    its customers. A guest was invited, never signed up: only the display name is theirs."""
    if request.user.user_type == request.user.UserType.GUEST:
        return []
    return selectors.sign_up_attributes(selectors.user_flow_for(request))


def password_set(request):
    """allauth's "Set a password", except for guests (selectors.password_allowed)."""
    if request.user.is_authenticated and not selectors.password_allowed(request.user):
        messages.info(
            request,
            _(
                "Guests do not set a password here: sign in with a code sent to your email "
                "address, or with your organization's account."
            ),
        )
        return redirect("accounts:my-account")
    return allauth_views.password_set(request)


class PasswordResetView(allauth_views.PasswordResetView):
    """allauth's "Reset your password", reached from the sign-in page with its `next`: that is
    remembered for the sign-in after the reset (services.password_reset_next_remember), and
    the answer is always "Check your email" (allauth's would go straight to `next`)."""

    def get_success_url(self) -> str:
        services.password_reset_next_remember(request=self.request, url=self.get_next_url())
        return reverse("account_reset_password_done")

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        context["sign_in_url"] = url_with_next(reverse("account_login"), self.get_next_url())
        return context


class PasswordResetDoneView(allauth_views.PasswordResetDoneView):
    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        next_url = services.password_reset_next(request=self.request)
        context["sign_in_url"] = url_with_next(reverse("account_login"), next_url)
        context["reset_url"] = url_with_next(reverse("account_reset_password"), next_url)
        return context


class PasswordResetFromKeyDoneView(allauth_views.PasswordResetFromKeyDoneView):
    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        next_url = services.password_reset_next(request=self.request, forget=True)
        context["sign_in_url"] = url_with_next(reverse("account_login"), next_url)
        return context


password_reset = PasswordResetView.as_view()
password_reset_done = PasswordResetDoneView.as_view()
password_reset_from_key_done = PasswordResetFromKeyDoneView.as_view()


@login_required
def my_account(request):
    user = request.user
    attributes = _profile_attributes(request)
    profile = [(attribute.label, _profile_value(user, attribute.key)) for attribute in attributes]
    lists = selectors.my_account_lists(user, current_session_key=request.session.session_key)
    is_guest = user.user_type == user.UserType.GUEST
    return render(
        request,
        "accounts/my_account.html",
        {
            "is_guest": is_guest,
            # Kept beside the user by the guests app (its reverse accessor, as in accounts.api).
            "guest_profile": getattr(user, "guest_profile", None) if is_guest else None,
            "profile": profile,
            "email_verified": lists.email_verified,
            "sessions": lists.sessions,
            "apps": lists.apps,
            "apps_page_url": APPS_PAGE_PATH if _resolves(APPS_PAGE_PATH) else None,
            "recent_sign_ins": lists.recent_sign_ins,
            "owns_groups": lists.owns_groups,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def profile_edit(request):
    attributes = _profile_attributes(request)
    form = ProfileForm(request.POST or None, user=request.user, attributes=attributes)
    if request.method == "POST" and form.is_valid():
        services.profile_update(
            user=request.user, attributes=attribute_values(form), request=request
        )
        messages.success(request, _("Your profile is saved."))
        return redirect("accounts:my-account")
    return render(request, "accounts/profile_edit.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def language_edit(request):
    """The language of the person's pages and emails, whatever browser they use."""
    form = LanguageForm(request.POST or None, initial={"language": request.user.language})
    if request.method == "POST" and form.is_valid():
        language = form.cleaned_data["language"]
        services.user_language_set(user=request.user, language=language, request=request)
        response = redirect("accounts:my-account")
        if language:
            # Shown at once, and before a sign-in in this browser next time (ciam/locale.py).
            language_remember(request, response, language)
        else:
            forget_language_choice(request, response)
        with translation.override(language or translation.get_language()):
            messages.success(request, _("Your language is saved."))
        return response
    return render(request, "accounts/language_edit.html", {"form": form})


@login_required
@reauthentication_required
@require_http_methods(["GET", "POST"])
def account_delete(request):
    if request.method == "POST":
        if request.POST.get("confirm") != "delete":
            messages.error(request, _("Tick the box to confirm."))
            return render(request, "accounts/account_delete.html", status=400)
        services.account_delete_self(user=request.user, request=request)
        logout(request)
        messages.success(request, _("Your account is deleted."))
        return redirect("home")
    return render(request, "accounts/account_delete.html")


def _profile_value(user, key: str):
    fields = {
        "givenName": user.first_name,
        "surname": user.last_name,
        "displayName": user.display_name,
    }
    return fields.get(key) or user.attributes.get(key, "")


# Whether a path resolves, per URLconf: the answer changes only with the URLconf.
_resolved: dict[tuple, bool] = {}


def _resolves(path: str) -> bool:
    key = (get_resolver(get_urlconf()), path)
    found = _resolved.get(key)
    if found is None:
        try:
            resolve(path)
        except Resolver404:
            found = False
        else:
            found = True
        if len(_resolved) > 32:  # URLconfs x paths: a handful; never unbounded
            _resolved.clear()
        _resolved[key] = found
    return found

"""Console: conditional access policies, named locations and the what-if tool (Security
administrator)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.roles import AdminRole
from ciam.forms import add_service_errors
from conditional_access import selectors, services
from conditional_access.evaluation import SignInContext, evaluate
from conditional_access.forms import NamedLocationForm, PolicyForm, WhatIfForm
from conditional_access.models import ConditionalAccessPolicy, NamedLocation
from conditional_access.requirements import requirements_not_enforced
from console.decorators import console_role

SECURITY_ADMIN = AdminRole.SECURITY_ADMINISTRATOR


def _see_other(view_name: str, **kwargs):
    response = redirect(view_name, **kwargs)
    response.status_code = 303
    return response


def _policy_or_404(public_id) -> ConditionalAccessPolicy:
    policy = selectors.policy_get(public_id)
    if policy is None:
        raise Http404
    return policy


def _location_or_404(public_id) -> NamedLocation:
    location = selectors.location_get(public_id)
    if location is None:
        raise Http404
    return location


@console_role(SECURITY_ADMIN)
def policy_list(request):
    policies = list(selectors.policy_list())
    for policy in policies:
        policy.not_enforced = (
            requirements_not_enforced(policy.requirements) if policy.state != "off" else []
        )
    return render(
        request,
        "conditional_access/policy_list.html",
        {
            "policies": policies,
            "locations": selectors.location_list(),
            "default_name": services.DEFAULT_POLICY_NAME,
            "states": ConditionalAccessPolicy.State.choices,
        },
    )


@console_role(SECURITY_ADMIN)
@require_http_methods(["GET", "POST"])
def policy_edit(request, public_id=None):
    policy = _policy_or_404(public_id) if public_id else ConditionalAccessPolicy()
    form = PolicyForm(request.POST or None, instance=policy)
    if request.method == "POST" and form.is_valid():
        try:
            services.policy_save(
                actor=request.user,
                policy=form.instance,
                relations=form.relations(),
                request=request,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Policy saved."))
            return _see_other("console:conditional-access:policy-list")
    return render(
        request,
        "conditional_access/policy_form.html",
        {"form": form, "policy": policy, "creating": public_id is None},
        status=400 if form.errors else 200,
    )


@console_role(SECURITY_ADMIN)
@require_POST
def policy_state(request, public_id):
    policy = _policy_or_404(public_id)
    try:
        services.policy_state_set(
            actor=request.user, policy=policy, state=request.POST.get("state", ""), request=request
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, f"{policy.name}: {message}")
    else:
        messages.success(
            request,
            _("%(name)s is now %(state)s.")
            % {"name": policy.name, "state": policy.get_state_display().lower()},
        )
    return _see_other("console:conditional-access:policy-list")


@console_role(SECURITY_ADMIN)
@require_http_methods(["GET", "POST"])
def policy_delete(request, public_id):
    policy = _policy_or_404(public_id)
    if request.method == "POST":
        services.policy_delete(actor=request.user, policy=policy, request=request)
        messages.success(request, _("Policy deleted."))
        return _see_other("console:conditional-access:policy-list")
    return render(
        request,
        "console/confirm.html",
        {
            "title": _("Delete the policy %(name)s?") % {"name": policy.name},
            "consequence": _("It stops applying to sign-ins and token issues at once."),
            "confirm_label": _("Delete"),
            "fields": {},
            "cancel_url": reverse("console:conditional-access:policy-list"),
        },
    )


@console_role(SECURITY_ADMIN)
def location_list(request):
    return render(
        request,
        "conditional_access/location_list.html",
        {"locations": selectors.location_list()},
    )


@console_role(SECURITY_ADMIN)
@require_http_methods(["GET", "POST"])
def location_edit(request, public_id=None):
    location = _location_or_404(public_id) if public_id else NamedLocation()
    form = NamedLocationForm(request.POST or None, instance=location)
    if request.method == "POST" and form.is_valid():
        try:
            services.location_save(actor=request.user, location=form.instance, request=request)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Named location saved."))
            return _see_other("console:conditional-access:location-list")
    return render(
        request,
        "conditional_access/location_form.html",
        {"form": form, "location": location, "creating": public_id is None},
        status=400 if form.errors else 200,
    )


@console_role(SECURITY_ADMIN)
@require_http_methods(["GET", "POST"])
def location_delete(request, public_id):
    location = _location_or_404(public_id)
    if request.method == "POST":
        try:
            services.location_delete(actor=request.user, location=location, request=request)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("Named location deleted."))
        return _see_other("console:conditional-access:location-list")
    return render(
        request,
        "console/confirm.html",
        {
            "title": _("Delete the named location %(name)s?") % {"name": location.name},
            "consequence": _("Policies that exclude it stop excluding its addresses."),
            "confirm_label": _("Delete"),
            "fields": {},
            "cancel_url": reverse("console:conditional-access:location-list"),
        },
    )


def what_if_context(form: WhatIfForm) -> SignInContext:
    """The sign-in a what-if form describes, as the real evaluation receives it."""
    data = form.cleaned_data
    return SignInContext(
        user=form.user,
        app_id=data["app"].pk if data["app"] else None,
        ip=data["ip"],
        method=data["method"] or None,
        new_browser=data["new_browser"] if data["method"] else None,
        recent_failures=data["recent_failures"] or 0,
    )


@console_role(SECURITY_ADMIN)
def what_if(request):
    """Which policies would apply to a sign-in, which would not and why, and the result: the
    same evaluate() a sign-in calls. A GET form: it changes nothing."""
    from groups.selectors import user_groups

    form = WhatIfForm(request.GET or None)
    decision, groups = None, []
    if request.GET and form.is_valid():
        decision = evaluate(what_if_context(form))
        groups = [group.display_name for group in user_groups(form.user)[:50]]
    return render(
        request,
        "conditional_access/what_if.html",
        {"form": form, "decision": decision, "user_groups": groups},
        status=400 if form.errors else 200,
    )

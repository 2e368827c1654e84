"""Console pages: Guests (invitations, bulk uploads, guest settings, API keys)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.roles import AdminRole, has_admin_role
from ciam.forms import add_service_errors
from console.decorators import console_role
from console.lists import list_page
from guests import selectors, services
from guests.filtersets import InvitationFilterSet
from guests.forms import ApiKeyForm, BulkInvitationForm, GuestSettingsForm, InvitationForm
from guests.models import Invitation
from guests.tables import InvitationTable

INVITERS = (AdminRole.GUEST_INVITER, AdminRole.USER_ADMINISTRATOR)


def _forbidden(request, error: PermissionDenied):
    return render(
        request,
        "guests/invite_forbidden.html",
        {"reason": str(error)},
        status=403,
    )


def _status_for(error: ValidationError) -> int:
    return 429 if getattr(error, "code", None) == "rate_limited" else 200


@console_role(*INVITERS)
def invitation_list(request):
    return list_page(
        request,
        "guests/invitation_list.html",
        table_class=InvitationTable,
        filterset_class=InvitationFilterSet,
        queryset=selectors.invitation_list(),
        bulk_uploads=selectors.bulk_invitation_list(),
        can_manage=has_admin_role(request.user, AdminRole.USER_ADMINISTRATOR),
        inactive_guests_url=_inactive_guests_url(),
        inactive_days=INACTIVE_GUEST_DAYS,
    )


# The inactive guests report (Entra's): Users, filtered to guests with no sign-in for this long.
INACTIVE_GUEST_DAYS = 90


def _inactive_guests_url() -> str:
    since = (timezone.now() - timedelta(days=INACTIVE_GUEST_DAYS)).date()
    # Longest inactive first (never signed in, then the oldest sign-in): the order of the
    # last sign-in's index, which then serves the filter too.
    query = urlencode({"type": "guest", "inactive_since": since.isoformat(), "sort": "last_login"})
    return f"{reverse('console:users:list')}?{query}"


@console_role(*INVITERS)
def invitation_create(request):
    form = InvitationForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            invitation = services.invitation_create(
                invited_by=request.user,
                email=data["email"],
                display_name=data["display_name"],
                redirect_url=data["redirect_url"],
                message=data["message"],
                language=data["language"],
                cc_recipients=data["cc_recipients"],
                user_type=data["user_type"],
                expiry_days=data["expiry_days"],
                send_email=data["send_email"],
                email_limit="invitation",
                request=request,
            )
        except PermissionDenied as error:
            return _forbidden(request, error)
        except ValidationError as error:
            add_service_errors(form, error)
            status = _status_for(error)
        else:
            messages.success(
                request, _("Invitation to %(email)s created.") % {"email": invitation.email}
            )
            return redirect("console:guests:invitation-detail", public_id=invitation.public_id)
    return render(request, "guests/invitation_form.html", {"form": form}, status=status)


@console_role(*INVITERS)
def invitation_detail(request, public_id):
    invitation = selectors.invitation_get(public_id)
    if invitation is None:
        raise Http404
    return _detail(request, invitation)


def _detail(request, invitation: Invitation, *, resend_error: str = "", status: int = 200):
    return render(
        request,
        "guests/invitation_detail.html",
        {
            "invitation": invitation,
            "emails": selectors.invitation_emails(invitation),
            "resend_error": resend_error,
        },
        status=status,
    )


@require_POST
@console_role(*INVITERS)
def invitation_resend(request, public_id):
    invitation = get_object_or_404(Invitation, public_id=public_id)
    try:
        services.invitation_resend(invitation=invitation, actor=request.user, request=request)
    except ValidationError as error:
        if error.code == "rate_limited":
            # Next to the Resend button, which stays there to try again later.
            return _detail(
                request,
                selectors.invitation_get(public_id),
                resend_error=" ".join(error.messages),
                status=429,
            )
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, _("A new invitation email is on its way; the old link no longer works.")
        )
    return redirect("console:guests:invitation-detail", public_id=public_id)


@require_http_methods(["GET", "POST"])
@console_role(*INVITERS)
def invitation_revoke(request, public_id):
    invitation = get_object_or_404(Invitation, public_id=public_id)
    if request.method == "GET":
        if invitation.status != Invitation.Status.PENDING:
            return redirect("console:guests:invitation-detail", public_id=public_id)
        return render(
            request,
            "console/confirm.html",
            {
                "title": _("Revoke the invitation to %(email)s?") % {"email": invitation.email},
                "consequence": _(
                    "Its link stops working at once. To invite this person again, send a new "
                    "invitation."
                ),
                "confirm_label": _("Revoke invitation"),
                "cancel_url": reverse("console:guests:invitation-detail", args=[public_id]),
            },
        )
    try:
        services.invitation_revoke(invitation=invitation, actor=request.user, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Invitation revoked: its link no longer works."))
    return redirect("console:guests:invitation-detail", public_id=public_id)


@console_role(*INVITERS)
def bulk_create(request):
    form = BulkInvitationForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            bulk = services.bulk_invitation_start(
                actor=request.user,
                data=upload.read(),
                file_name=upload.name,
                default_redirect_url=form.cleaned_data["default_redirect_url"] or "",
                request=request,
            )
        except PermissionDenied as error:
            return _forbidden(request, error)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect("console:guests:bulk-detail", public_id=bulk.public_id)
    return render(request, "guests/bulk_form.html", {"form": form})


@console_role(*INVITERS)
def bulk_detail(request, public_id):
    bulk = selectors.bulk_invitation_get(public_id)
    if bulk is None:
        raise Http404
    context = {
        "bulk": bulk,
        "delivery": selectors.bulk_delivery_counts(bulk),
        "reasons": services.BULK_REASONS,
    }
    template = "guests/bulk_detail.html#progress" if request.htmx else "guests/bulk_detail.html"
    return render(request, template, context)


@console_role(AdminRole.USER_ADMINISTRATOR)
def guest_settings(request):
    instance = services.guest_settings_get()
    form = GuestSettingsForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in services.SETTINGS_FIELDS}
        try:
            services.guest_settings_update(actor=request.user, request=request, **changes)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Guest settings saved."))
            return redirect("console:guests:settings")
    return render(request, "guests/settings.html", {"form": form})


@console_role(AdminRole.USER_ADMINISTRATOR)
def api_keys(request):
    form = ApiKeyForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        try:
            _api_key, new_key = services.api_key_create(
                actor=request.user, name=form.cleaned_data["name"], request=request
            )
        except ValidationError as error:
            form.add_error("name", error.message_dict.get("name"))
        else:
            form = ApiKeyForm()
    return render(
        request,
        "guests/api_keys.html",
        {"form": form, "new_key": new_key, "keys": selectors.api_key_list()},
    )


@require_POST
@console_role(AdminRole.USER_ADMINISTRATOR)
def api_key_revoke(request, public_id):
    api_key = get_object_or_404(selectors.api_key_list(), public_id=public_id)
    services.api_key_revoke(api_key=api_key, actor=request.user, request=request)
    messages.success(request, _("API key revoked."))
    return redirect("console:guests:api-keys")


@require_POST
@console_role(AdminRole.USER_ADMINISTRATOR)
def guest_renew(request, public_id):
    user = get_object_or_404(get_user_model(), public_id=public_id)
    if selectors.guest_profile_for(user) is None:
        raise Http404
    services.guest_access_renew(user=user, actor=request.user, request=request)
    messages.success(request, _("Guest access renewed."))
    return redirect("console:users:detail", public_id=public_id)

from __future__ import annotations

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from audit import selectors
from audit.models import AuditEvent, SignInEvent
from console.lists import ListFilterSet, search_filter

M = SignInEvent.Method


class AuditEventFilterSet(ListFilterSet):
    search_fields = ("actor_label", "target_label")

    q = search_filter(_("Actor or target"))
    action = django_filters.CharFilter(
        label=_("Action"), method="filter_action",
        widget=forms.TextInput(attrs={"placeholder": "user.create"}),
    )  # fmt: skip

    class Meta(ListFilterSet.Meta):
        model = AuditEvent

    def filter_action(self, queryset, name, value):
        return queryset.filter(action=value[:80])


class SignInEventFilterSet(ListFilterSet):
    """The sign-in log's filters. The page and its CSV export filter alike: both hand the
    cleaned values (`selector_filters`) to audit.selectors.sign_in_events_filter, whose
    search also matches an IP address whole."""

    q = search_filter(_("Email, app or IP address"))
    result = django_filters.ChoiceFilter(
        label=_("Result"), choices=SignInEvent.Result.choices, empty_label=_("All")
    )
    method = django_filters.ChoiceFilter(
        label=_("Method"), empty_label=_("All"),
        choices=[(method.value, method.label) for method in (M.PASSWORD, M.EMAIL_CODE,
                                                              M.PASSWORD_RESET)],
    )  # fmt: skip
    days = django_filters.ChoiceFilter(
        label=_("Period"), empty_label=_("All time"),
        choices=[("1", _("Last 24 hours")), ("7", _("Last 7 days")), ("30", _("Last 30 days"))],
    )  # fmt: skip

    policy = django_filters.CharFilter(
        label=_("Conditional access policy"), method="filter_nothing",
        widget=forms.TextInput(attrs={"type": "search"}),
    )  # fmt: skip
    policy_result = django_filters.ChoiceFilter(
        label=_("Policy result"), empty_label=_("Any"), method="filter_nothing",
        choices=[("block", _("Block")), ("grant", _("Grant with requirements")),
                 ("not_applied", _("Not applied"))],
    )  # fmt: skip

    class Meta(ListFilterSet.Meta):
        model = SignInEvent

    def filter_nothing(self, queryset, name, value):
        return queryset  # filter_queryset hands every value to the selector at once

    def selector_filters(self) -> dict:
        """The valid filters as audit.selectors names them (what an export keeps)."""
        self.form.is_valid()
        data = self.form.cleaned_data
        days = data.get("days")
        return {
            "search": (data.get("q") or "")[:200],
            "result": data.get("result") or "",
            "method": data.get("method") or "",
            "days": int(days) if days else None,
            "policy": (data.get("policy") or "").strip()[:128],
            "policy_result": data.get("policy_result") or "",
        }

    def filter_queryset(self, queryset):
        return selectors.sign_in_events_filter(queryset, **self.selector_filters())

from __future__ import annotations

from django import forms

from audit.models import LogRetention


class LogRetentionForm(forms.ModelForm):
    class Meta:
        model = LogRetention
        fields = ["sign_in_days", "audit_days"]
        widgets = {
            "sign_in_days": forms.NumberInput(attrs={"inputmode": "numeric"}),
            "audit_days": forms.NumberInput(attrs={"inputmode": "numeric"}),
        }

from __future__ import annotations

from django.shortcuts import render


def home(request):
    """The tenant's hosted home page."""
    return render(request, "accounts/home.html")

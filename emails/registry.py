"""What each kind of outbox email says, registered by the app that owns the kind.

emails sends, retries and gives up; it does not know what an invitation or a sign-in code
is. Each app registers a builder per kind from its AppConfig.ready() (guests: invitations,
copies, redemption codes, sponsor reminders; accounts: the emails allauth asks for), so the
dependency points from the feature apps to emails, never back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.template.loader import render_to_string
from django.utils import translation


@dataclass(frozen=True)
class Content:
    """A message's subject and parts; emails adds the recipient and headers."""

    subject: str
    text: str
    html: str = ""
    from_email: str = ""


# (outbox row, the tenant's primary-domain origin) -> the content, or None when what the
# message needs is gone (its secret was wiped).
Builder = Callable[..., Content | None]

_builders: dict[str, Builder] = {}


def builder_register(kind: str, builder: Builder) -> None:
    from emails.models import OutboxEmail

    if kind not in OutboxEmail.Kind.values:
        raise ImproperlyConfigured(f"{kind!r} is not an OutboxEmail.Kind")
    _builders[kind] = builder


def builder_for(kind: str) -> Builder:
    """The builder registered for `kind`; LookupError when no app registered one."""
    try:
        return _builders[kind]
    except KeyError:
        raise LookupError(f"no email builder for {kind!r}") from None


def kinds_without_builder() -> list[str]:
    from emails.models import OutboxEmail

    return [kind for kind in OutboxEmail.Kind.values if kind not in _builders]


def content_render(
    *, template: str, subject: str, subject_values: dict, context: dict, language: str
) -> Content:
    """`template`.txt and `template`.html (both extending emails/base.*) in `language`.

    `subject` is a lazy translation, filled from `subject_values` once the language is
    active."""
    with translation.override(language):
        return Content(
            subject=str(subject) % subject_values,
            text=render_to_string(f"{template}.txt", context),
            html=render_to_string(f"{template}.html", context),
        )

"""Named admin roles, as people who know Entra expect them."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AdminRole(models.TextChoices):
    GLOBAL_ADMINISTRATOR = "global_administrator", _("Global administrator")
    USER_ADMINISTRATOR = "user_administrator", _("User administrator")
    APPLICATION_ADMINISTRATOR = "application_administrator", _("Application administrator")
    GUEST_INVITER = "guest_inviter", _("Guest inviter")
    BRANDING_ADMINISTRATOR = "branding_administrator", _("Branding administrator")
    SECURITY_ADMINISTRATOR = "security_administrator", _("Security administrator")
    REPORTS_READER = "reports_reader", _("Reports reader")


# The roles that read the sign-in and audit logs (Console > Logs, and what other pages show
# of them).
LOG_READERS = (AdminRole.REPORTS_READER, AdminRole.SECURITY_ADMINISTRATOR)


def has_admin_role(user, role: str) -> bool:
    """Global administrators hold every role."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    roles = set(user.admin_roles or ())
    return AdminRole.GLOBAL_ADMINISTRATOR in roles or role in roles


def assignable_roles(actor) -> list[str]:
    """The admin roles `actor` may assign or remove: only a Global administrator assigns
    roles (issue 17: nobody grants a role they do not hold, and only the Global administrator
    holds them all)."""
    if has_admin_role(actor, AdminRole.GLOBAL_ADMINISTRATOR):
        return list(AdminRole.values)
    return []


def manages_roles_of(actor, user) -> bool:
    """Whether `actor` may change `user`'s admin roles at all."""
    return bool(assignable_roles(actor))


def is_tenant_admin(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.admin_roles)


# The roles an application permission stands for: an admin grants a permission to an app
# only while holding one of them, and the app keeps it only while that admin still does.
PERMISSION_ROLES = {
    "User.Read.All": (AdminRole.USER_ADMINISTRATOR,),
    "User.ReadWrite.All": (AdminRole.USER_ADMINISTRATOR,),
    "User.Invite.All": (AdminRole.GUEST_INVITER, AdminRole.USER_ADMINISTRATOR),
    "Group.Read.All": (AdminRole.USER_ADMINISTRATOR,),
    "Group.ReadWrite.All": (AdminRole.USER_ADMINISTRATOR,),
}


def holds_permission_roles(user, permission: str) -> bool:
    return user is not None and any(
        has_admin_role(user, role) for role in PERMISSION_ROLES.get(permission, ())
    )


def permission_roles_label(permission: str) -> str:
    """The roles `permission` needs, as an admin reads them ("Guest inviter or ...")."""
    labels = [str(AdminRole(role).label) for role in PERMISSION_ROLES.get(permission, ())]
    labels.append(str(AdminRole.GLOBAL_ADMINISTRATOR.label))
    return str(_(" or ")).join(labels)

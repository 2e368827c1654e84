from django.apps import AppConfig


class ConditionalAccessConfig(AppConfig):
    name = "conditional_access"
    verbose_name = "Conditional access"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from conditional_access.models import ConditionalAccessPolicy, NamedLocation

        # Sign-ins and token issues keep each tenant's policies per process
        # (conditional_access.selectors): any change, wherever it comes from (console, shell,
        # a data migration), makes every process read them again.
        for model in (ConditionalAccessPolicy, NamedLocation):
            for signal in (post_save, post_delete):
                signal.connect(_policies_changed, sender=model, dispatch_uid=f"ca-{model}")
        for field in ConditionalAccessPolicy._meta.many_to_many:
            m2m_changed.connect(
                _policies_changed, sender=field.remote_field.through, dispatch_uid=f"ca-{field}"
            )
        # A deleted group leaves the policies that named it (its rows go by cascade, which
        # sends no m2m_changed).
        from groups.models import Group

        post_delete.connect(_policies_changed, sender=Group, dispatch_uid="ca-group-delete")
        # After accounts' own receiver, which fixes the session's lifetime from the user flow.
        user_logged_in.connect(_sign_in_frequency_apply, dispatch_uid="ca-sign-in-frequency")


def _policies_changed(sender, **kwargs) -> None:
    from conditional_access.selectors import policies_cache_invalidate

    policies_cache_invalidate()


def _sign_in_frequency_apply(sender, request, user, **kwargs) -> None:
    from conditional_access.stages import sign_in_frequency_apply

    sign_in_frequency_apply(request)

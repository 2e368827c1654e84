from django.apps import AppConfig


class CiamConfig(AppConfig):
    name = "ciam"
    verbose_name = "Ciam platform"

    def ready(self) -> None:
        # `{% translate "literal" %}` kept per language once rendered (ciam/i18n_kept.py),
        # and `{% url "name" %}` per URLconf once reversed (ciam/url_kept.py), before any
        # template is compiled.
        from ciam.i18n_kept import kept_translate_install
        from ciam.url_kept import kept_url_install

        kept_translate_install()
        kept_url_install()

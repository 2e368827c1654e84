from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "insights"
    verbose_name = "Usage insights"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from console.navigation import Area, register
        from insights.console_views import INSIGHTS_READERS

        register(Area(_("Insights"), "console:insights:index", INSIGHTS_READERS), order=85)

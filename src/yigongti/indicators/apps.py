from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IndicatorsConfig(AppConfig):
    name = "yigongti.indicators"
    verbose_name = _("监测指标")

    def ready(self) -> None:
        from yigongti.core import menu
        from yigongti.orgs import home

        from . import permissions  # noqa: F401  (the indicators.* verbs)
        from .home import red_indicators_panel

        home.register("indicators.red", red_indicators_panel, order=40)

        menu.register(_("监测指标"), "indicators:dashboard", order=90)

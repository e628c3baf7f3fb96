from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class PerformanceConfig(AppConfig):
    """薪酬与绩效: the finance and performance office's app (its own users and data), apart from workforce."""

    name = "yigongti.performance"
    label = "performance"
    verbose_name = _("薪酬与绩效")

    def ready(self) -> None:
        from yigongti.core import menu

        from . import indicators, permissions  # noqa: F401  (the performance.* verbs, N06)
        from .queries import may_read

        menu.register(pgettext_lazy("menu", "薪酬绩效"), "performance:home", order=206, group="admin",
                      visible=may_read)
        indicators.register()

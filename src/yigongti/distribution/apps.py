from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class DistributionConfig(AppConfig):
    name = "yigongti.distribution"
    label = "distribution"
    verbose_name = _("药品配送")

    def ready(self) -> None:
        from yigongti.core import menu

        from . import indicators, permissions  # noqa: F401  (the distribution.* verbs)
        from .queries import may_read

        menu.register(pgettext_lazy("menu", "药品配送"), "distribution:home", order=206, group="admin",
                      visible=may_read)
        indicators.register()

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class PharmacyConfig(AppConfig):
    name = "yigongti.pharmacy"
    verbose_name = _("药品耗材")

    def ready(self) -> None:
        from yigongti.core import menu

        from . import indicators, permissions  # noqa: F401  (the pharmacy.* verbs)
        from .queries import may_use_pharmacy

        menu.register(pgettext_lazy("menu", "药品耗材"), "pharmacy:home", order=206, group="admin",
                      visible=may_use_pharmacy)
        indicators.register()

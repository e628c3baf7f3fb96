from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class IhospitalConfig(AppConfig):
    name = "yigongti.ihospital"
    label = "ihospital"
    verbose_name = _("互联网医院")

    def ready(self) -> None:
        from yigongti.core import menu

        from . import indicators, permissions  # noqa: F401  (the ihospital.* verbs)
        from .queries import may_see_queue

        menu.register(pgettext_lazy("menu", "互联网医院"), "ihospital:queue", order=206, group="admin",
                      visible=may_see_queue)
        indicators.register()

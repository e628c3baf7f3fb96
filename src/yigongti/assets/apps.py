from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class AssetsConfig(AppConfig):
    name = "yigongti.assets"
    verbose_name = _("医学装备")

    def ready(self) -> None:
        from yigongti.core import menu

        from . import permissions  # noqa: F401  (the assets.* verbs)
        from .queries import may_read_register

        menu.register(pgettext_lazy("menu", "医学装备"), "assets:list", order=205, group="admin",
                      visible=may_read_register)

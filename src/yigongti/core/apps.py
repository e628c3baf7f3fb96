from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class CoreConfig(AppConfig):
    name = "yigongti.core"
    verbose_name = _("平台内核")

    def ready(self):
        from . import menu, signals  # noqa: F401

        menu.register_group("admin", pgettext_lazy("menu", "管理"))
        menu.register(pgettext_lazy("menu", "审计日志"), "audit:log", order=220, group="admin",
                      visible=lambda u: u.role == "auditor" or u.is_superuser)

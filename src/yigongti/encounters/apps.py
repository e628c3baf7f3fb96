from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class EncountersConfig(AppConfig):
    name = "yigongti.encounters"
    verbose_name = _("就诊记录")

    def ready(self) -> None:
        from yigongti.core import menu
        from yigongti.orgs.permissions import can
        from yigongti.residents import panels

        from . import permissions  # noqa: F401  (the encounters.* verbs)
        from .resident_panel import recent_encounters_panel

        panels.register("encounters", _("近期就诊"), order=30, rows=recent_encounters_panel)

        menu.register(pgettext_lazy("menu", "数据导入"), "encounters:imports", order=212, group="admin",
                      visible=lambda u: any(can(u, f"encounters.import_{k}")
                                            for k in ("settlements", "population", "deaths")))

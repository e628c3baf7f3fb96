from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ResidentsConfig(AppConfig):
    name = "yigongti.residents"
    verbose_name = _("居民")

    def ready(self) -> None:
        from yigongti.core import menu
        from yigongti.orgs import home
        from yigongti.orgs.permissions import Category, can, can_read

        from . import permissions  # noqa: F401  (the residents.* verbs)
        from .home import age_bands_panel, key_populations_panel, resident_stats_panel

        home.register("residents.total", resident_stats_panel, order=110)
        home.register("residents.key_populations", key_populations_panel, order=310)
        home.register("residents.ages", age_bands_panel, order=320)

        menu.register(_("居民"), "residents:list", order=40, visible=lambda u: can_read(u, Category.DEMOGRAPHICS))
        menu.register(pgettext_lazy("menu", "建档检索"), "residents:find", order=50,
                      visible=lambda u: can_read(u, Category.DEMOGRAPHICS))
        menu.register(pgettext_lazy("menu", "档案导入"), "residents:imports", order=210, group="admin",
                      visible=lambda u: can(u, "residents.import"))
        menu.register(pgettext_lazy("menu", "疑似重复"), "residents:reviews", order=211, group="admin",
                      visible=lambda u: can(u, "residents.review"))

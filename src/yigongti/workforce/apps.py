from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class WorkforceConfig(AppConfig):
    name = "yigongti.workforce"
    label = "workforce"
    verbose_name = _("人力资源")

    def ready(self) -> None:
        from yigongti.core import menu
        from yigongti.core.carelevel import CareLevel, care_level
        from yigongti.orgs.models import Role
        from yigongti.orgs.permissions import has_role

        from . import indicators, permissions  # noqa: F401  (the workforce.* verbs)

        def visible(u) -> bool:
            if has_role(u, Role.COMMUNITY_MANAGER, Role.BUREAU, Role.FACILITY_ADMIN, Role.CITY):
                return True
            # doctors: those of county-level hospitals (the experts who go down), for their check-in
            return has_role(u, Role.DOCTOR) and u.facility_id is not None and \
                care_level(u.facility.type) in (CareLevel.COUNTY, CareLevel.CITY)

        menu.register(pgettext_lazy("menu", "专家下沉"), "workforce:home", order=204, group="admin", visible=visible)
        def keeps_village_doctors(u) -> bool:
            return has_role(u, Role.COMMUNITY_MANAGER, Role.BUREAU, Role.FACILITY_ADMIN, Role.CITY)

        menu.register(pgettext_lazy("menu", "乡村医生"), "workforce:vd_doctors", order=207, group="admin",
                      visible=keeps_village_doctors)
        menu.register(pgettext_lazy("menu", "考勤签到"), "workforce:vd_me", order=208, group="admin",
                      visible=lambda u: has_role(u, Role.VILLAGE_DOCTOR))
        indicators.register()

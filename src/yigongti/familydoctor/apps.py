from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class FamilyDoctorConfig(AppConfig):
    name = "yigongti.familydoctor"
    verbose_name = _("家庭医生签约")

    def ready(self) -> None:
        from yigongti.core import menu
        from yigongti.orgs.models import Role
        from yigongti.orgs.permissions import has_role

        from . import permissions  # noqa: F401  (the familydoctor.* verbs)

        def carers(u) -> bool:
            return has_role(u, Role.DOCTOR, Role.NURSE, Role.VILLAGE_DOCTOR, Role.PUBLIC_HEALTH)

        def overseers(u) -> bool:
            return has_role(u, Role.COMMUNITY_MANAGER, Role.BUREAU, Role.FACILITY_ADMIN, Role.CITY)

        menu.register(pgettext_lazy("menu", "今日工作"), "familydoctor:day", order=20,
                      visible=lambda u: has_role(u, Role.VILLAGE_DOCTOR, Role.DOCTOR, Role.PUBLIC_HEALTH))
        menu.register(pgettext_lazy("menu", "家庭医生"), "familydoctor:home", order=21,
                      visible=lambda u: carers(u) or overseers(u))

        from . import registry

        registry.ready()  # home panels, resident panels, indicators, jobs of the app's modules

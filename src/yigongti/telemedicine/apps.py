from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class TelemedicineConfig(AppConfig):
    name = "yigongti.telemedicine"
    verbose_name = _("共享诊断中心")

    def ready(self) -> None:
        from yigongti.core import menu
        from yigongti.orgs.models import Role
        from yigongti.orgs.permissions import has_role

        from . import permissions  # noqa: F401  (the telemedicine.* verbs)

        def orderers(u) -> bool:  # clinicians who order and receive results
            return has_role(u, Role.DOCTOR, Role.VILLAGE_DOCTOR, Role.NURSE)

        def center_readers(u) -> bool:  # the readers of a center: their worklists
            return u.is_authenticated and u.diagnosis_centers.exists()

        def critical_readers(u) -> bool:  # the critical-value page in the menu: clinicians and facility admins
            # (managers, the bureau and the city reach it from their home page's 危急值闭环 panel: counts only)
            return has_role(u, Role.DOCTOR, Role.VILLAGE_DOCTOR, Role.NURSE, Role.FACILITY_ADMIN)

        menu.register(pgettext_lazy("menu", "检查检验"), "telemedicine:orders", order=60, visible=orderers)
        menu.register(pgettext_lazy("menu", "诊断中心"), "telemedicine:centers", order=61, visible=center_readers)
        menu.register(pgettext_lazy("menu", "危急值"), "telemedicine:critical", order=62, visible=critical_readers)

        from . import registry

        registry.ready()  # resident panels, timeline entries, indicators, home panels of the app's modules

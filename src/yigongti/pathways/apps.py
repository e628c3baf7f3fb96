from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class PathwaysConfig(AppConfig):
    name = "yigongti.pathways"
    verbose_name = _("五大救治中心")

    def ready(self) -> None:
        from yigongti.core import menu
        from yigongti.orgs.models import Role
        from yigongti.orgs.permissions import has_role

        from . import permissions  # noqa: F401  (the pathways.* verbs)

        def treating(u) -> bool:  # clinicians of a facility that runs a center or a township unit
            if not has_role(u, Role.DOCTOR, Role.NURSE) or u.facility_id is None:
                return False
            return u.facility.pathway_centers.filter(active=True).exists()

        menu.register(pgettext_lazy("menu", "急救通道"), "pathways:cases", order=63, visible=treating)

        from . import registry

        registry.ready()

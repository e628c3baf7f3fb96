from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class EmergencyConfig(AppConfig):
    name = "yigongti.emergency"
    verbose_name = _("120急救指挥")

    def ready(self) -> None:
        from yigongti.core import menu
        from yigongti.orgs.models import Role
        from yigongti.orgs.permissions import has_role

        from . import permissions  # noqa: F401  (the emergency.* verbs)

        def dispatchers(u) -> bool:
            return has_role(u, Role.DISPATCHER)

        def crews(u) -> bool:  # doctors and nurses of an ambulance station, or seated on a vehicle
            if not has_role(u, Role.DOCTOR, Role.NURSE):
                return False
            return (u.facility_id is not None and u.facility.type in ("E100", "E300")) or u.crew_seats.exists()

        menu.register(pgettext_lazy("menu", "120调度"), "emergency:board", order=40, visible=dispatchers)
        menu.register(pgettext_lazy("menu", "出车"), "emergency:crew", order=41, visible=crews)

        from . import registry

        registry.ready()  # home panels, resident panels, indicators, jobs of the app's modules

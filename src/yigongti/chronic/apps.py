from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ChronicConfig(AppConfig):
    name = "yigongti.chronic"
    verbose_name = _("两病管理")

    def ready(self) -> None:
        from yigongti.core import menu
        from yigongti.orgs.models import Role
        from yigongti.orgs.permissions import has_role

        from . import permissions  # noqa: F401  (the chronic.* verbs)

        menu.register(pgettext_lazy("menu", "两病管理"), "chronic:ledger", order=22,
                      visible=lambda u: has_role(u, Role.DOCTOR, Role.NURSE, Role.VILLAGE_DOCTOR, Role.PUBLIC_HEALTH))

        from . import registry

        registry.ready()

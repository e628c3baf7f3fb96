from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class PrescribingConfig(AppConfig):
    name = "yigongti.prescribing"
    label = "prescribing"
    verbose_name = _("处方与审方")

    def ready(self) -> None:
        from yigongti.core import menu
        from yigongti.core.audit_queries import register_object
        from yigongti.orgs.models import Role
        from yigongti.orgs.permissions import has_role

        from . import indicators, permissions, resident_panel  # noqa: F401  (the prescribing.* verbs)

        def visible(u) -> bool:
            return has_role(u, Role.PHARMACIST, Role.DOCTOR, Role.VILLAGE_DOCTOR)

        menu.register(pgettext_lazy("menu", "处方审核"), "prescribing:home", order=207, group="admin",
                      visible=visible)
        indicators.register()
        resident_panel.register()
        register_object("prescription", _("处方"))
        register_object("prescription_list", _("居民处方列表"))

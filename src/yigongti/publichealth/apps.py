from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class PublicHealthConfig(AppConfig):
    name = "yigongti.publichealth"
    verbose_name = _("基本公共卫生")

    def ready(self) -> None:
        from yigongti.core import menu
        from yigongti.orgs.models import Role
        from yigongti.orgs.permissions import has_role

        from . import permissions  # noqa: F401  (the publichealth.* verbs)

        menu.register(pgettext_lazy("menu", "公共卫生"), "publichealth:home", order=23,
                      visible=lambda u: has_role(u, Role.DOCTOR, Role.NURSE, Role.VILLAGE_DOCTOR, Role.PUBLIC_HEALTH))

        from . import registry

        registry.ready()

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class OrgsConfig(AppConfig):
    name = "yigongti.orgs"
    verbose_name = _("机构与人员")

    def ready(self) -> None:
        from yigongti.core import api_support, menu

        from . import home, permissions  # noqa: F401  (the orgs.* verbs)
        from .services import user_for_token

        api_support.register_token_authenticator(user_for_token)
        menu.register(_("首页"), "home", order=10)
        home.register_own()
        menu.register(_("机构"), "orgs:tree", order=200, group="admin")
        menu.register(_("人员"), "orgs:staff", order=201, group="admin")
        menu.register(pgettext_lazy("menu", "访问令牌"), "orgs:tokens", order=230, group="admin")

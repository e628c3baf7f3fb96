from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class InsuranceConfig(AppConfig):
    name = "yigongti.insurance"
    verbose_name = _("医保管理")

    def ready(self) -> None:
        from yigongti.core import menu
        from yigongti.orgs.permissions import has_role
        from yigongti.orgs.models import Role

        from . import permissions  # noqa: F401  (the insurance.* verbs)

        def fund_readers(u) -> bool:  # aggregates of the fund, no patients
            return u.is_superuser or has_role(u, Role.INSURANCE_OFFICER, Role.COMMUNITY_MANAGER, Role.BUREAU,
                                              Role.CITY)

        menu.register(pgettext_lazy("menu", "医保基金"), "insurance:ledger", order=120, visible=fund_readers)

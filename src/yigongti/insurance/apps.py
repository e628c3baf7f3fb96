from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class InsuranceConfig(AppConfig):
    name = "yigongti.insurance"
    verbose_name = _("医保管理")

    def ready(self) -> None:
        from yigongti.core import menu
        from yigongti.orgs.models import Role
        from yigongti.orgs.permissions import has_role

        from . import permissions  # noqa: F401  (the insurance.* verbs)

        def fund_readers(u) -> bool:  # aggregates of the fund, no patients
            return u.is_superuser or has_role(u, Role.INSURANCE_OFFICER, Role.COMMUNITY_MANAGER, Role.BUREAU,
                                              Role.CITY)

        menu.register(pgettext_lazy("menu", "医保基金"), "insurance:ledger", order=120, visible=fund_readers)

        def settlement_readers(u) -> bool:  # settlement lists, filings, pay-later: person-level settlement data
            from yigongti.orgs.permissions import Category, can_read

            return can_read(u, Category.SETTLEMENT) and not fund_readers(u)  # (the fund's readers: its tab bar)

        menu.register(pgettext_lazy("menu", "结算清单"), "insurance:cases", order=121, visible=settlement_readers)

        from . import home, indicators

        indicators.register()  # the fund's indicators on the dashboard and in the monthly report
        home.register()  # the insurance officer's home panel

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ReferralsConfig(AppConfig):
    name = "yigongti.referrals"
    verbose_name = _("双向转诊")

    def ready(self) -> None:
        # Register the SLA timer's handler wherever the jobs run (the worker, tests calling run_due).
        from yigongti.core import menu
        from yigongti.orgs.permissions import Category, can_read, is_manager
        from yigongti.residents import panels

        from . import jobs, permissions  # noqa: F401  (the referrals.* verbs)
        from .resident_panel import follow_ups_panel, open_referrals_panel

        panels.register("referrals", _("未结转诊"), order=10, rows=open_referrals_panel)
        panels.register("follow_ups", _("随访"), order=20, rows=follow_ups_panel)
        _register_home_panels()

        def managers(u) -> bool:  # the area's counts, not patients
            return u.is_superuser or is_manager(u)

        menu.register(pgettext_lazy("menu", "双向转诊"), "referrals:list", order=80,
                      visible=lambda u: can_read(u, Category.REFERRAL))
        menu.register(pgettext_lazy("menu", "转诊指标"), "referrals:stats", order=100, visible=managers)
        menu.register(pgettext_lazy("menu", "转外分析"), "referrals:outflow", order=110, visible=managers)


def _register_home_panels() -> None:
    from yigongti.orgs import home

    from .home import awaiting_answer_panel, center_queue_panel, follow_ups_panel, incoming_panel

    home.register("referrals.center", center_queue_panel, order=20)
    home.register("referrals.follow_ups", follow_ups_panel, order=10)
    home.register("referrals.todo", incoming_panel, order=15)
    home.register("referrals.awaiting", awaiting_answer_panel, order=30)

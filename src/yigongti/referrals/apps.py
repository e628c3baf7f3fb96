from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferralsConfig(AppConfig):
    name = "yigongti.referrals"
    verbose_name = _("双向转诊")

    def ready(self) -> None:
        # Register the SLA timer's handler wherever the jobs run (the worker, tests calling run_due).
        from . import jobs  # noqa: F401

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PharmacyConfig(AppConfig):
    name = "yigongti.pharmacy"
    verbose_name = _("药品耗材")

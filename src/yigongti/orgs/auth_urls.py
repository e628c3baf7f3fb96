from django.urls import path

from . import auth_views

app_name = "account"
urlpatterns = [
    path("two-factor/", auth_views.two_factor, name="two_factor"),
    path("two-factor/setup/", auth_views.two_factor_setup, name="two_factor_setup"),
    path("two-factor/recovery-codes/", auth_views.recovery_codes, name="recovery_codes"),
    path("password/", auth_views.password_change, name="password_change"),
]

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from yigongti.api import api
from yigongti.core import views as core_views
from yigongti.orgs import auth_views as org_auth_views
from yigongti.orgs import views as org_views

admin.site.site_header = "医共体平台管理后台"
admin.site.site_title = "医共体平台"

audit_patterns = ([path("", core_views.audit_log, name="log"),
                   path("export.xlsx", core_views.audit_export, name="export"),
                   path("verify/", core_views.audit_verify, name="verify")], "audit")

urlpatterns = [
    path("", org_views.home, name="home"),
    path("login/", org_auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/", include("yigongti.orgs.auth_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("orgs/", include("yigongti.orgs.urls")),
    path("residents/", include("yigongti.residents.urls")),
    path("encounters/", include("yigongti.encounters.urls")),
    path("indicators/", include("yigongti.indicators.urls")),
    path("referrals/", include("yigongti.referrals.urls")),
    path("insurance/", include("yigongti.insurance.urls")),
    path("centers/", include("yigongti.telemedicine.urls")),
    path("pharmacy/", include("yigongti.pharmacy.urls")),
    path("emergency/", include("yigongti.emergency.urls")),
    path("pathways/", include("yigongti.pathways.urls")),
    path("familydoctor/", include("yigongti.familydoctor.urls")),
    path("chronic/", include("yigongti.chronic.urls")),
    path("publichealth/", include("yigongti.publichealth.urls")),
    path("workforce/", include("yigongti.workforce.urls")),
    path("assets/", include("yigongti.assets.urls")),
    path("performance/", include("yigongti.performance.urls")),
    path("distribution/", include("yigongti.distribution.urls")),
    path("ihospital/", include("yigongti.ihospital.urls")),
    path("prescribing/", include("yigongti.prescribing.urls")),
    path("audit/", include(audit_patterns)),
    path("inbox/", core_views.inbox, name="inbox"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
]

handler403 = "yigongti.core.views.permission_denied"
handler404 = "yigongti.core.views.page_not_found"
handler500 = "yigongti.core.views.server_error"

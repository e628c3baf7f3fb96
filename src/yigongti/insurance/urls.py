from django.urls import path

from .views import budget
from .views import cases as case_views
from .views import filings as filing_views
from .views import payment as payment_views
from .views import settlement as year_settlement
from .views import simulation as simulation_views

app_name = "insurance"
urlpatterns = [
    path("", budget.ledger, name="ledger"),
    path("payment/", payment_views.overview, name="payment"),
    path("payment/rates/", payment_views.rates, name="payment_rates"),
    path("payment/dip/", payment_views.dip_page, name="dip"),
    path("efficiency/", payment_views.efficiency_page, name="efficiency"),
    path("simulation/", simulation_views.simulation_page, name="simulation"),
    path("simulation/<int:pk>/", simulation_views.simulation_detail, name="simulation_detail"),
    path("cases/", case_views.case_list, name="cases"),
    path("cases/group/", case_views.case_group_all, name="case_group_all"),
    path("cases/<int:pk>/", case_views.case_detail, name="case_detail"),
    path("cases/<int:pk>/regroup/", case_views.case_regroup, name="case_regroup"),
    path("filings/", filing_views.filing_list, name="filings"),
    path("filings/<int:pk>/revoke/", filing_views.filing_revoke, name="filing_revoke"),
    path("pay-later/", filing_views.pay_later_list, name="pay_later"),
    path("pay-later/<int:pk>/settle/", filing_views.pay_later_settle, name="pay_later_settle"),
    path("post/", budget.post_ledger, name="post_ledger"),
    path("budget/", budget.budget, name="budget"),
    path("budget/<int:year>/<str:scheme>/", budget.budget, name="budget_year"),
    path("reconcile/", budget.reconcile, name="reconcile"),
    path("reconcile/<int:pk>/", budget.reconcile_detail, name="reconcile_detail"),
    path("reconcile/template.xlsx", budget.reconcile_template, name="reconcile_template"),
    path("settlement/", year_settlement.index, name="settlement"),
    path("settlement/<int:year>/<str:scheme>/", year_settlement.year_page, name="settlement_year"),
    path("settlement/<int:pk>/statement/<int:facility_id>.xlsx", year_settlement.statement, {"fmt": "xlsx"},
         name="settlement_statement_xlsx"),
    path("settlement/<int:pk>/statement/<int:facility_id>.pdf", year_settlement.statement, {"fmt": "pdf"},
         name="settlement_statement_pdf"),
    path("settlement/<int:pk>/summary.xlsx", year_settlement.summary, name="settlement_summary"),
]

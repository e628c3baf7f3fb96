"""The JSON API at /api/v1/: each app contributes a router."""

from yigongti.assets.api import router as assets_router
from yigongti.chronic.api import router as chronic_router
from yigongti.core.api_support import AUTH, ProblemAPI, install_problem_handlers
from yigongti.emergency.api import router as emergency_router
from yigongti.encounters.api import router as encounters_router
from yigongti.familydoctor.api import router as familydoctor_router
from yigongti.indicators.api import router as indicators_router
from yigongti.insurance.api import router as insurance_router
from yigongti.orgs.api import router as orgs_router
from yigongti.pathways.api import router as pathways_router
from yigongti.publichealth.api import router as publichealth_router
from yigongti.referrals.api import router as referrals_router
from yigongti.residents.api import router as residents_router
from yigongti.residents.index_api import router as resident_index_router
from yigongti.telemedicine.api import router as telemedicine_router

api = ProblemAPI(
    title="医共体平台 API",
    version="1",
    description="Facilities, staff and residents of the medical community. Errors are application/problem+json "
    "with a stable `code`. Authenticate with a browser session or `Authorization: Bearer <personal access token>`.",
    auth=AUTH,
    urls_namespace="api-v1",
    docs_url="/docs",
)
install_problem_handlers(api)
api.add_router("/", orgs_router)
api.add_router("/residents", resident_index_router)
api.add_router("/residents", residents_router)
api.add_router("/encounters", encounters_router)
api.add_router("/indicators", indicators_router)
api.add_router("/referrals", referrals_router)
api.add_router("/insurance", insurance_router)
api.add_router("/telemedicine", telemedicine_router)
api.add_router("/emergency", emergency_router)
api.add_router("/pathways", pathways_router)
api.add_router("/familydoctor", familydoctor_router)
api.add_router("/chronic", chronic_router)
api.add_router("/publichealth", publichealth_router)
api.add_router("/assets", assets_router)
api.add_router("/distribution", "yigongti.distribution.api.router")
api.add_router("/workforce", "yigongti.workforce.api.router")
api.add_router("/pharmacy", "yigongti.pharmacy.api.router")
api.add_router("/prescribing", "yigongti.prescribing.api.router")
api.add_router("/ihospital", "yigongti.ihospital.api.router")
api.add_router("/performance", "yigongti.performance.api.router")

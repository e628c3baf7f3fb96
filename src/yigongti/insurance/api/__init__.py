"""The insurance API: one router per area, mounted at /api/v1/insurance."""

from ninja import Router

router = Router(tags=["insurance"])

from .budget import router as budget_router  # noqa: E402

router.add_router("/budget", budget_router)

from .settlement import router as settlement_router  # noqa: E402

router.add_router("/settlement", settlement_router)

from .cases import filings_router, pay_later_router  # noqa: E402
from .cases import router as cases_router  # noqa: E402

router.add_router("/cases", cases_router)
router.add_router("/filings", filings_router)
router.add_router("/pay-later", pay_later_router)

from .payment import router as payment_router  # noqa: E402

router.add_router("/payment", payment_router)

"""``Cache-Control: no-store`` on every page and API response that may carry person-level data.

Person pages, lists, the inbox and the JSON API are rendered for one signed-in user from records about
patients: no browser cache, proxy or back-forward cache may keep them (a shared terminal at a township
registration desk is the usual case). Static files and the anonymous login page are left cacheable.
A view that means its response to be cached publicly says so with ``Cache-Control: public``."""

from __future__ import annotations

from django.conf import settings
from django.utils.cache import patch_cache_control

PERSONAL_PREFIXES = ("/api/", "/fhir/")


def _personal(request) -> bool:
    path = request.path
    if path.startswith(settings.STATIC_URL):
        return False
    if path.startswith(PERSONAL_PREFIXES):
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


class NoStoreMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if _personal(request) and "public" not in response.get("Cache-Control", ""):
            patch_cache_control(response, no_store=True, no_cache=True, private=True, max_age=0)
            response["Pragma"] = "no-cache"
        return response

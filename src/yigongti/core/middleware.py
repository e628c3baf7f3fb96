from django.conf import settings

# Everything the pages use is served from our own origin (npm packages through staticfiles).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
# The OpenAPI docs page loads Swagger UI from ninja's own static files, with an inline bootstrap script.
DOCS_CSP = CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")


class SecurityHeadersMiddleware:
    """Content-Security-Policy and a strict permissions policy on every response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            docs = request.path.startswith("/api/v1/docs") or request.path.startswith(settings.STATIC_URL)
            response["Content-Security-Policy"] = DOCS_CSP if docs else CSP
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        response.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response


class ChosenLanguageMiddleware:
    """zh-Hans unless the user picked another language with the switch (the language cookie).

    Django's LocaleMiddleware would follow the browser's Accept-Language; a county platform is
    Chinese by default whatever the browser says."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.utils import translation

        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        lang = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        translation.activate(lang)
        request.LANGUAGE_CODE = lang
        response = self.get_response(request)
        response.setdefault("Content-Language", lang)
        from django.utils.cache import patch_vary_headers

        patch_vary_headers(response, ("Cookie",))
        return response

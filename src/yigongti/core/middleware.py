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
    Chinese by default whatever the browser says. The API is the exception: a client without the cookie
    that prefers English (``Accept-Language: en``) gets its problem+json messages in English."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.utils import translation

        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        lang = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        api = request.path.startswith("/api/")
        if api and chosen not in dict(settings.LANGUAGES):
            lang = _api_language(request.headers.get("Accept-Language", ""))
        translation.activate(lang)
        request.LANGUAGE_CODE = lang
        try:
            response = self.get_response(request)
        finally:
            # Messages are rendered in the active language: the next thing this thread runs (a request
            # without the cookie, the worker, a test) starts from the default again.
            translation.deactivate()
        response.setdefault("Content-Language", lang)
        from django.utils.cache import patch_vary_headers

        patch_vary_headers(response, ("Cookie", "Accept-Language") if api else ("Cookie",))
        return response


def _api_language(header: str) -> str:
    """English when the client's first preference among ours is English, else the default (zh-Hans)."""
    from django.utils.translation.trans_real import parse_accept_lang_header

    for tag, _q in parse_accept_lang_header(header):
        tag = tag.lower()
        if tag == "en" or tag.startswith("en-"):
            return "en"
        if tag.startswith("zh"):
            break
    return settings.LANGUAGE_CODE


class SessionTouchMiddleware:
    """Renew an active session's idle expiry at most once every ``SESSION_TOUCH_SECONDS``.

    ``SESSION_SAVE_EVERY_REQUEST`` would write the session row on every request; the idle limit (30 minutes)
    does not need second precision, so one write a minute per active user keeps it within a minute."""

    KEY = "_touched"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and not session.is_empty() and not session.modified:
            import time

            now = int(time.time())
            if now - int(session.get(self.KEY, 0)) >= settings.SESSION_TOUCH_SECONDS:
                session[self.KEY] = now  # marks it modified: SessionMiddleware saves it with a new expiry
        return response

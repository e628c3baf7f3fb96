"""Template context shared by every page: the side menu (filled by the apps, ``core.menu``) and the inbox count."""

from . import menu


def navigation(request):
    """The side menu, by role: what this account can open."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from .notify import unread_count

    return {"nav_items": menu.items_for(user), "unread_count": unread_count(user)}

"""``{% load imaging_tags %}``: whether to show the imaging center's unmatched-studies tab (the page refuses by
itself)."""

from django import template

register = template.Library()


@register.filter
def reads_images(user) -> bool:
    from ..queries.imaging import is_imaging_member

    if not getattr(user, "is_authenticated", False):
        return False
    cached = getattr(user, "_tm_reads_images", None)
    if cached is None:
        cached = user._tm_reads_images = is_imaging_member(user)
    return cached

"""``{% load lab_tags %}``: whether to show the lab center's HL7 queue tab (the page refuses by itself)."""

from django import template

register = template.Library()


@register.filter
def keeps_hl7_queue(user) -> bool:
    from yigongti.core.actor import Actor

    from ..queries.lab import may_keep_queue

    if not getattr(user, "is_authenticated", False):
        return False
    cached = getattr(user, "_tm_keeps_hl7_queue", None)
    if cached is None:
        cached = user._tm_keeps_hl7_queue = may_keep_queue(Actor.from_user(user))
    return cached


@register.simple_tag
def hl7_waiting() -> int:
    from ..queries.lab import queue_count

    return queue_count()

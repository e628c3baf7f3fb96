"""Show or hide by permission in templates (never a substitute for the service's check).

    {% load permissions %}
    {% if request.user|may:"referrals.create" %}…{% endif %}
    {% may_do request.user "referrals.arrive" r as can_arrive %}
    {% if request.user|reads:"clinical" %}…{% endif %}
"""

from django import template

from yigongti.orgs import permissions

register = template.Library()


@register.filter
def may(user, verb: str) -> bool:
    return permissions.can(user, verb)


@register.simple_tag
def may_do(user, verb: str, obj=None) -> bool:
    return permissions.can(user, verb, obj)


@register.filter
def reads(user, category: str) -> bool:
    return permissions.can_read(user, category)

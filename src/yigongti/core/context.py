from django.urls import reverse
from django.utils.translation import gettext as _

from yigongti.orgs.models import INDEX_MANAGER_ROLES


def navigation(request):
    """The side menu, by role: what this account can open."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    items = [(_("首页"), reverse("home")), (_("机构"), reverse("orgs:tree")), (_("人员"), reverse("orgs:staff"))]
    if user.role != "auditor":
        items.append((_("居民"), reverse("residents:list")))
        items.append((_("建档检索"), reverse("residents:find")))
    if user.is_superuser or user.role in INDEX_MANAGER_ROLES:
        items.append((_("档案导入"), reverse("residents:imports")))
        items.append((_("疑似重复"), reverse("residents:reviews")))
    if user.role != "auditor":
        items.append((_("双向转诊"), reverse("referrals:list")))
    items.append((_("监测指标"), reverse("indicators:dashboard")))
    if user.is_superuser or user.role in ("bureau", "community_manager", "city"):
        items.append((_("转诊指标"), reverse("referrals:stats")))
        items.append((_("转外分析"), reverse("referrals:outflow")))
    if user.role == "auditor" or user.is_superuser:
        items.append((_("审计日志"), reverse("audit:log")))
    items.append((_("访问令牌"), reverse("orgs:tokens")))
    from .notify import unread_count

    return {"nav_items": items, "unread_count": unread_count(user)}

"""The home page per role: to-dos first, then the figures of the area the account manages.

``orgs`` sits below the apps whose to-dos it shows and must not import them. Each app registers, in its
``AppConfig.ready``, functions that build a panel for one reader from the app's own scoped queries (and write
their own audit event when they read person-level data), or return ``None`` when the panel is not for this
reader's role:

    from yigongti.orgs import home
    home.register("referrals.follow_ups", follow_ups_panel, order=10)

``home_for(actor)`` asks every registered function and returns the to-do panels first, then the totals.
Every item links to the page where it is handled. Panels read cached counts or small indexed queries, never
a heavy aggregation (the indicator panel reads the indicator facts the dashboard caches).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from django.core.cache import cache
from django.db.models import Count, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yigongti.core import audit
from yigongti.core.actor import Actor

log = logging.getLogger("yigongti.orgs")
T = TypeVar("T")

TODO = "todo"  # something to act on, shown first
STATS = "stats"  # headline figures, shown as big numbers
TOTALS = "totals"  # the managed area's breakdowns

# The roles that manage the county (or the community, or the city): only they see the area's totals.
MANAGING_ROLES = frozenset({"bureau", "city", "community_manager"})


def manages_area(user) -> bool:
    return bool(getattr(user, "is_superuser", False)) or getattr(user, "role", "") in MANAGING_ROLES


@dataclass(frozen=True)
class Item:
    """One line of a panel: a label, its figure (a count, a value) and the page where it is handled."""

    label: str
    url: str = ""
    value: object = None
    note: str = ""
    tone: str = ""  # '' | 'danger' | 'warning' | 'success' | 'primary'
    testid: str = ""
    bar: int | None = None  # 0–100: a bar drawn under the label (a share of the panel's largest)


@dataclass
class Panel:
    key: str
    title: str
    kind: str = TODO
    items: list[Item] = field(default_factory=list)
    url: str = ""  # the page of the whole panel ("查看全部")
    empty: str = ""  # shown when there are no items (a to-do list that is done)

    @property
    def testid(self) -> str:
        return "home-" + self.key.replace(".", "-").replace("_", "-")


PanelFn = Callable[[Actor], "Panel | None"]


@dataclass(frozen=True)
class Registered:
    key: str
    build: PanelFn
    order: int


PANELS: dict[str, Registered] = {}


def register(key: str, build: PanelFn, *, order: int) -> None:
    """Add (or, under the same key, replace) a home panel. ``build(actor)`` returns a Panel or None."""
    PANELS[key] = Registered(key, build, order)


@dataclass
class Home:
    todos: list[Panel]
    stats: list[Panel]
    totals: list[Panel]

    @property
    def stat_items(self) -> list[Item]:
        return [i for p in self.stats for i in p.items]


def home_for(actor: Actor) -> Home:
    """The panels of this reader's home page, to-dos first, each built by the app that owns the data. The
    panels' audit events (one per panel that shows patients) are appended together at the end."""
    built: list[Panel] = []
    with audit.batch():
        for reg in sorted(PANELS.values(), key=lambda r: (r.order, r.key)):
            try:
                panel = reg.build(actor)
            except Exception:  # one app's panel must not take the home page down
                log.exception("home panel %s failed", reg.key)
                continue
            if panel is not None:
                built.append(panel)
    return Home(todos=[p for p in built if p.kind == TODO], stats=[p for p in built if p.kind == STATS],
                totals=[p for p in built if p.kind == TOTALS])


COUNTS_TTL = 300  # seconds: a new facility or staff member reaches the managers' home figures within five minutes


def _cached_for_scope(user, what: str, build: Callable[[], T]) -> T:
    """``build()``, cached in the shared cache per registry scope (every bureau account of a county shares it):
    the managers' home panels count the facilities and staff of a county on every visit otherwise."""
    from .queries import registry_scope

    prefixes = registry_scope(user).prefixes
    key = f"orgs:home:{what}:{'*' if prefixes is None else ','.join(sorted(prefixes))}"
    value = cache.get(key)
    if value is None:
        value = build()
        cache.set(key, value, COUNTS_TTL)
    return value


def title_for(user) -> str:
    """The page's heading: the communities the account belongs to or manages, else its facility or region."""
    from .queries import communities_visible_to

    if manages_area(user):
        names = _cached_for_scope(user, "communities",
                                  lambda: list(communities_visible_to(user).values_list("name", flat=True)[:3]))
        if names:
            return "、".join(names)
    if getattr(user, "facility_id", None):
        return user.facility.name
    if getattr(user, "region_id", None):
        return user.region.name
    return _("医共体概览")


# ---- the orgs app's own panels ----------------------------------------------------------------------------


def area_stats_panel(actor: Actor) -> Panel | None:
    """Facilities, staff and beds of the managed area (the bureau, the city, a community manager)."""
    from .queries import facilities_visible_to, staff_visible_to

    user = actor.user
    if user is None or not manages_area(user):
        return None
    def counts() -> dict:
        facilities = facilities_visible_to(user).order_by()
        return {**facilities.aggregate(n=Count("id"), approved=Sum("approved_beds"), open=Sum("open_beds")),
                "staff": staff_visible_to(user).filter(is_active=True).count()}

    c = _cached_for_scope(user, "area", counts)
    return Panel("orgs.area", _("管辖范围"), STATS, [
        Item(_("医疗卫生机构"), reverse("orgs:tree"), c["n"], testid="facility-total"),
        Item(_("在岗人员"), reverse("orgs:staff"), c["staff"], testid="staff-total"),
        Item(_("开放床位 / 核定床位"), reverse("orgs:tree"), f"{c['open'] or 0:,} / {c['approved'] or 0:,}",
             testid="beds"),
    ])


def facility_types_panel(actor: Actor) -> Panel | None:
    from .models import FacilityType
    from .queries import facilities_visible_to

    user = actor.user
    if user is None or not manages_area(user):
        return None
    by_type = _cached_for_scope(user, "facility_types", lambda: dict(
        facilities_visible_to(user).order_by().values_list("type").annotate(n=Count("id")).values_list("type", "n")))
    top = max(by_type.values(), default=0) or 1
    items = [Item(str(label), reverse("orgs:tree"), by_type[code], bar=round(100 * by_type[code] / top))
             for code, label in FacilityType.choices if by_type.get(code)]
    return Panel("orgs.facility_types", _("机构构成"), TOTALS, items, reverse("orgs:tree"))


AUDITOR_ALERTS = (
    ("denied", gettext_lazy("越权访问被拒")),
    ("login_locked", gettext_lazy("登录被锁定")),
    ("otp_failed", gettext_lazy("两步验证失败")),
    ("unmask", gettext_lazy("查看完整证件号")),
    ("export", gettext_lazy("导出")),
)
AUDITOR_DAYS = 7


def auditor_panel(actor: Actor) -> Panel | None:
    """An auditor's to-dos: the last week's refusals, lock-outs, failed second factors, unmaskings and exports
    (counts, each linking to the filtered log), then the latest refusals by name. Reading it is audited."""
    from yigongti.core.audit_queries import AuditFilter, describe, filtered

    user = actor.user
    if user is None or not (user.role == "auditor" or user.is_superuser):
        return None
    since = timezone.localdate() - dt.timedelta(days=AUDITOR_DAYS - 1)
    base = reverse("audit:log")
    recent = filtered(AuditFilter(date_from=since)).order_by()
    counts = dict(recent.filter(action__in=[a for a, _l in AUDITOR_ALERTS]).values_list("action")
                  .annotate(n=Count("id")).values_list("action", "n"))
    items = [Item(str(label), f"{base}?action={action}&date_from={since.isoformat()}", counts.get(action, 0),
                  tone="danger" if counts.get(action) and action in ("denied", "login_locked") else "",
                  testid=f"alert-{action}") for action, label in AUDITOR_ALERTS]
    latest = describe(list(filtered(AuditFilter(action="denied", date_from=since))[:5]))
    for row in latest:
        e = row.event
        what = " ".join(x for x in (row.object_label, row.object_name or e.object_id) if x)
        items.append(Item(f"{e.actor} · {row.role_label} · {what}", f"{base}?actor={e.actor}&action=denied",
                          timezone.localtime(e.at).strftime("%m-%d %H:%M"), note=row.facility_name, tone="danger",
                          testid="denial"))
    audit.record(actor, "list", "audit_event", "", panel="home", ids=[row.event.seq for row in latest])
    return Panel("audit.alerts", _("近 7 天的审计提示"), TODO, items, base)


def register_own() -> None:
    register("orgs.area", area_stats_panel, order=100)
    register("orgs.facility_types", facility_types_panel, order=300)
    register("audit.alerts", auditor_panel, order=50)

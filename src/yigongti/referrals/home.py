"""The referral app's panels of the home page (registered with ``orgs.home`` in ``apps.py``).

A village or township doctor sees the follow-ups that fall due and the referrals waiting for their facility
(down-referrals to receive, patients to check in), a township doctor also the referrals it sent that wait for
an answer; the referral center's staff see their queue by urgency and what is overdue. Patient names are read
through ``queries`` and audited there or here."""

from __future__ import annotations

from django.db.models import Count, Window
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.orgs.home import TODO, Item, Panel
from yigongti.orgs.permissions import Category, can_read

from . import queries
from .models import Direction, Status, Urgency
from .services import center_ids_of

LIMIT = 8


def _reader(actor: Actor):
    user = actor.user
    if user is None or not user.facility_id or not can_read(user, Category.REFERRAL):
        return None
    return user


def _line(r) -> str:
    return f"#{r.pk} {r.get_direction_display()} · {r.resident.name} · {r.icd10} {r.diagnosis}".strip()


def follow_ups_panel(actor: Actor) -> Panel | None:
    """Follow-ups of down-referred patients at the reader's facility due within a week, the overdue first."""
    user = _reader(actor)
    if user is None:
        return None
    qs = queries.due_follow_ups(user)
    # the total rides on the rows (a window count): the join of follow-ups and referrals runs once, not twice
    rows = list(qs.annotate(total=Window(Count("id")))[:LIMIT])
    audit.record(actor, "list", "followup", "", panel="home", ids=[f.pk for f in rows])
    today = timezone.localdate()
    items = []
    for f in rows:
        overdue = f.due_date < today
        items.append(Item(f"{f.referral.resident.name} · {f.referral.icd10} {f.referral.diagnosis}".strip(),
                          reverse("referrals:detail", args=[f.referral_id]), f.due_date.strftime("%m-%d"),
                          note=_("已逾期") if overdue else _("计划随访"), tone="danger" if overdue else "warning",
                          testid="follow-up-due"))
    total = rows[0].total if rows else 0
    return Panel("referrals.follow_ups", _("待随访（%(n)s）") % {"n": total}, TODO, items,
                 reverse("referrals:list") + "?box=todo", _("近 7 天没有到期的随访"))


def incoming_panel(actor: Actor) -> Panel | None:
    """Referrals waiting for the reader's facility: to receive (a down-referral to a village, an up-referral
    sent without a center), to check in on arrival, and its own drafts."""
    user = _reader(actor)
    if user is None:
        return None
    page = queries.my_referrals(actor, "todo", 1, LIMIT, brief=True)  # audited there
    items = []
    for r in page.items:
        if r.status == Status.DRAFT:
            note, tone = _("草稿，待提交"), ""
        elif r.status == Status.SUBMITTED:
            note, tone = (_("待接收（下转）") if r.direction == Direction.DOWN else _("待接收")), "primary"
        else:
            note, tone = _("待患者到达签到"), "warning"
        testid = "down-referral" if r.direction == Direction.DOWN and r.status != Status.DRAFT else "referral-todo"
        items.append(Item(_line(r), reverse("referrals:detail", args=[r.pk]),
                          r.submitted_at and timezone.localtime(r.submitted_at).strftime("%m-%d %H:%M"),
                          note=note, tone=tone, testid=testid))
    more = "+" if page.has_next else ""
    return Panel("referrals.todo", _("转诊待办（%(n)s）") % {"n": f"{len(items)}{more}"}, TODO, items,
                 reverse("referrals:list") + "?box=todo", _("没有待接收或待签到的转诊"))


def awaiting_answer_panel(actor: Actor) -> Panel | None:
    """Up-referrals the reader's township center sent that still wait for the receiving side's answer."""
    user = _reader(actor)
    if user is None:
        return None
    rows, total = queries.awaiting_answer(actor, LIMIT)
    if not total and not user.facility.is_grassroots:
        return None  # a county hospital department rarely waits on others: no empty panel
    now = timezone.now()
    items = [Item(_line(r), reverse("referrals:detail", args=[r.pk]),
                  _("已等待 %(t)s") % {"t": timesince(r.submitted_at, now)} if r.submitted_at else "",
                  note=r.to_name, tone="danger" if r.escalated_at else "", testid="awaiting-answer")
             for r in rows]
    return Panel("referrals.awaiting", _("已转出、待对方应答（%(n)s）") % {"n": total}, TODO, items,
                 reverse("referrals:list") + "?box=out", _("转出的转诊都已得到应答"))


def center_queue_panel(actor: Actor) -> Panel | None:
    """The referral center's queue at a glance: waiting by urgency, the overdue and the longest wait."""
    user = actor.user
    if user is None or not center_ids_of(user):
        return None
    s = queries.queue_summary(user)
    base = reverse("referrals:center")
    tones: dict[str, str] = {Urgency.GREEN: "success", Urgency.URGENT: "warning", Urgency.ROUTINE: ""}
    items = [Item(_("待处理 · %(u)s") % {"u": label}, f"{base}?tab=pending", s["by_urgency"].get(code, 0),
                  tone=tones[code] if s["by_urgency"].get(code) else "", testid=f"queue-{code}")
             for code, label in Urgency.choices[::-1]]
    items.append(Item(_("已超时未应答"), f"{base}?tab=overdue", s["overdue"], tone="danger" if s["overdue"] else "",
                      testid="queue-overdue"))
    if s["oldest"]:
        items.append(Item(_("等待最久"), f"{base}?tab=pending", timesince(s["oldest"], timezone.now()),
                          testid="queue-oldest"))
    return Panel("referrals.center", _("转诊中心待处理（%(n)s）") % {"n": s["pending"]}, TODO, items, base)

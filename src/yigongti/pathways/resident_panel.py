"""The resident page's panel "一键呼叫": for the doctors and village doctors who face the patient, the button that
starts the green channel (chest pain / stroke), and the presses under way for this resident."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yigongti.core.actor import Actor
from yigongti.orgs.permissions import can

from . import green_channel as gc


def green_channel_panel(actor: Actor, resident):
    from yigongti.residents.panels import Row

    user = actor.user
    if user is None or not can(user, "pathways.green_channel", resident):
        return None
    url = reverse("pathways:green_channel", args=[resident.pk])
    rows = [Row(None, _("一键呼叫：胸痛/卒中绿色通道"), url, badge=_("急"), alert=True)]
    for kind in gc.KINDS:
        under_way = gc.open_press(actor, resident, kind)
        if under_way is not None:
            call = under_way.call
            text = _("进行中：%(kind)s %(no)s") % {"kind": gc.KINDS[kind][0], "no": call.call_no}
            rows.append(Row(call.rang_at, text, reverse("pathways:green_channel_done", args=[call.pk]),
                            str(call.get_status_display())))
    return rows, url


def register() -> None:
    from yigongti.residents import panels

    panels.register("pathways.green_channel", gettext_lazy("一键呼叫"), order=5, rows=green_channel_panel)

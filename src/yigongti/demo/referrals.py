"""A year of two-way referrals consistent with the encounters: every county admission that a township
center sent (``Encounter.referred_from``) becomes an up-referral through the referral center (green channel
for stroke and chest pain), stable patients discharged from the county go back down with a follow-up plan,
and a few referrals are declined, cancelled or answered late (escalated). Around the real clock's "now" the
center's queue holds a handful of unanswered referrals, and the demo village and township doctors have
down-referrals to receive, so the live demo has work to show.

Rows are bulk-created (not a service call per row) after being drawn from ``ctx.rng('referrals')``; the
guideline warnings come from the same pure function the services use."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import numpy as np
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from yigongti.core.jobs import schedule
from yigongti.encounters.models import Encounter
from yigongti.orgs.models import Role, Staff, User
from yigongti.orgs.services import create_account
from yigongti.referrals import services as ref_services
from yigongti.referrals.models import PRIORITY, FollowUp, Referral, ReferralEvent, level_of_facility
from yigongti.referrals.workflow import DOWN_FOLLOW_UP_DAYS, advise, green_channel

from .accounts import SYSTEM
from .context import DemoContext

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
DECLINE_REASONS = ["神经内科床位已满，建议转永州市中心医院", "患者病情不需住院，建议基层继续治疗",
                   "资料不全，请补充心电图后重新提交",
                   "已联系市级医院直接接收"]
DOWN_DX = {"I63.9": ("脑梗死恢复期", "肢体功能训练、言语训练，每周3次", "阿司匹林肠溶片 100mg qd；阿托伐他汀 20mg qn"),
           "S72.0": ("股骨颈骨折术后", "髋关节功能锻炼、助行器步行训练", "钙剂、维生素D；低分子肝素至术后35天"),
           "J44.1": ("慢性阻塞性肺病稳定期", "呼吸功能锻炼、家庭氧疗", "噻托溴铵吸入 qd"),
           "I10": ("原发性高血压", "低盐饮食、规律运动", "氨氯地平 5mg qd"),
           "E11.9": ("2型糖尿病", "饮食运动指导、血糖监测", "二甲双胍 0.5g tid"),
           "I50.9": ("慢性心力衰竭", "限盐限水、监测体重", "呋塞米 20mg qd；螺内酯 20mg qd；美托洛尔 23.75mg qd"),
           "I25.1": ("冠心病", "心脏康复运动、戒烟", "阿司匹林 100mg qd；阿托伐他汀 20mg qn"),
           "C34.9": ("肺恶性肿瘤（化疗间歇期）", "营养支持、疼痛评估", "按肿瘤科医嘱")}
UP_REASONS = {"routine": "病情需要上级医院进一步诊治", "green": "病情危重，申请绿色通道",
              "urgent": "病情较重，申请尽快收治"}
OVERRIDES = {"I10": "血压 186/112 mmHg，伴头痛，基层调整用药后仍未达标", "E11.9": "连续两次随访空腹血糖 >13 mmol/L",
             "J44.1": "急性加重，血氧饱和度 88%", "J18.9": "高热伴呼吸急促", "K80.2": "需手术治疗"}


# A referral event as the demo builds it: (when, actor or None for the system, action, from, to, note).
Event = tuple[dt.datetime, "User | None", str, str, str, str]

def _at(day: dt.date, minutes: float) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=TZ) + dt.timedelta(minutes=float(minutes))


def _center_accounts(ctx: DemoContext):
    lead = ctx.community.lead_facility

    def staff(profession):
        return (Staff.objects.filter(work_facility=lead, profession=profession, account__isnull=True)
                .order_by("id").first())

    # The supervisor is a physician of the lead hospital's medical office (医务科): a clinician who answers
    # referrals as a member of the center, not an administrator (who could import and merge residents).
    desk_staff, boss_staff = staff("nurse"), staff("physician")
    desk, pw1 = create_account(actor=SYSTEM, username="referral_center", role=Role.NURSE, staff=desk_staff,
                               facility=lead,
                               display_name=f"{desk_staff.name}（转诊中心）" if desk_staff else "转诊服务中心")
    boss, pw2 = create_account(actor=SYSTEM, username="referral_supervisor", role=Role.DOCTOR, staff=boss_staff,
                               facility=lead,
                               display_name=f"{boss_staff.name}（医务科）" if boss_staff else "医务科主管")
    center = ref_services.setup_center(ctx.community, actor=SYSTEM, members=[desk], supervisors=[boss],
                                       phone="0746-2212120")
    ctx.logins += [{"role": "转诊服务中心", "username": "referral_center", "password": pw1, "where": lead.name},
                   {"role": "转诊中心主管", "username": "referral_supervisor", "password": pw2, "where": lead.name}]
    return center, desk, boss


def _township_doctors(ctx: DemoContext) -> dict[int, User]:
    """One referring account per township center (the demo login where it exists, otherwise an account with
    no usable password standing for that center's doctors)."""
    out = {u.facility_id: u for u in User.objects.filter(username="township_doctor") if u.facility_id}
    new = []
    for f in ctx.facilities.values():
        if f.care_level == "township" and f.pk not in out:
            new.append(User(username=f"ref_{f.code}", role=Role.DOCTOR, facility=f, display_name=f"{f.short_name}医生",
                            password=make_password(None)))
    User.objects.bulk_create(new)
    out.update({u.facility_id: u for u in User.objects.filter(username__startswith="ref_") if u.facility_id})
    return out


def build_referrals(ctx: DemoContext) -> None:
    rng = ctx.rng("referrals")
    ref_services.install_starter_rules(actor=SYSTEM)
    center, desk, _supervisor = _center_accounts(ctx)
    county_doctor = User.objects.get(username="county_doctor")
    township_doctor = _township_doctors(ctx)
    rules = ref_services.active_rules()
    fac_by_pk = {f.pk: f for f in ctx.facilities.values()}
    rows = list(Encounter.objects.filter(type="inpatient", referred_from__isnull=False)
                .values_list("id", "resident_id", "area_code", "admit_date", "discharge_date", "facility_id",
                             "department_id", "main_icd10", "main_diagnosis", "referred_from__facility_id",
                             "referred_from__admit_date").order_by("id"))
    task = ctx.task("生成双向转诊", len(rows))
    referrals: list[Referral] = []
    # per referral: (when, actor or None for the system, action, from status, to status, note)
    events: list[list[Event]] = []
    sources: dict[int, int] = {}  # index of a down-referral -> index of the up-referral it answers
    follow_ups: list[list[FollowUp]] = []
    n = len(rows)
    u = rng.random((n, 6))
    for k, (_eid, rid, area, admit, discharge, fid, dept, icd, dxname, from_fid, ref_day) in enumerate(rows):
        task.advance()
        origin = fac_by_pk[from_fid]
        urgency = "routine"
        diagnosis = dxname
        if icd.startswith("I63") and u[k, 0] < 0.7:
            urgency = "green"
        elif icd.startswith("I25") and u[k, 0] < 0.4:
            urgency, icd, diagnosis = "green", "R07.4", "胸痛（疑似急性冠脉综合征）"
        elif icd[:3] in ("J44", "J18", "I50", "K35", "S72") and u[k, 0] < 0.35:
            urgency = "urgent"
        sla = center.sla_minutes(urgency)
        sub = _at(ref_day, 8 * 60 + u[k, 1] * 9 * 60)
        late = u[k, 2] < 0.04
        wait = sla * (1.2 + 2 * u[k, 3]) if late else sla * (0.05 + 0.8 * u[k, 3] ** 1.5)
        ans = sub + dt.timedelta(minutes=float(wait))
        due = sub + dt.timedelta(minutes=sla)
        advice = advise(icd, "up", level_of_facility(origin), level_of_facility(fac_by_pk[fid]), rules)
        r = Referral(direction="up", urgency=urgency, priority=PRIORITY[urgency], resident_id=rid, area_code=area,
                     center=center, from_facility=origin, from_level=level_of_facility(origin),
                     referred_by=township_doctor[from_fid], to_facility_id=fid, to_level="county",
                     to_department_id=dept, icd10=icd, diagnosis=diagnosis, reason=UP_REASONS[urgency],
                     summary={"taken": ref_day.isoformat(), "encounters": [
                         {"date": ref_day.isoformat(), "facility": origin.name, "department": "", "type": "门诊",
                          "icd10": icd, "diagnosis": diagnosis, "discharge": ""}]},
                     guideline_rule_id=advice.rule.id if advice.rule else None, guideline_warning=advice.warning,
                     override_reason=OVERRIDES.get(icd, "患者及家属要求") if advice.warning else "",
                     submitted_at=sub, due_at=due, escalated_at=due if late else None,
                     ecg_changes=icd == "R07.4", routine_reason="发病已超过再灌注时间窗，病情平稳"
                     if urgency != "green" and green_channel(icd) else "")
        ev: list[Event] = [(sub, township_doctor[from_fid], "create", "", "draft", ""),
              (sub, township_doctor[from_fid], "submit", "draft", "submitted", "")]
        if late:
            ev.append((due, None, "escalate", "submitted", "submitted", "超过响应时限未处理，已升级至主管"))
        fate = u[k, 4]
        if fate < 0.03:
            r.status, r.answered_at, r.answered_by, r.closed_at = "declined", ans, desk, ans
            r.decline_reason = DECLINE_REASONS[int(u[k, 5] * len(DECLINE_REASONS))]
            ev.append((ans, desk, "decline", "submitted", "declined", r.decline_reason))
        elif fate < 0.04:
            r.status, r.closed_at = "cancelled", ans
            ev.append((ans, township_doctor[from_fid], "cancel", "submitted", "cancelled", "患者家属决定自行前往"))
        else:
            r.status, r.answered_at, r.answered_by = "accepted", ans, desk
            r.appointment_at = _at(admit, 9 * 60) if admit > ref_day else ans + dt.timedelta(minutes=30)
            ev.append((ans, desk, "accept", "submitted", "accepted", ""))
            arrived = max(r.appointment_at, ans + dt.timedelta(minutes=20))
            r.status, r.arrived_at = "arrived", arrived
            ev.append((arrived, None, "arrive", "accepted", "arrived", ""))
            if discharge is not None:
                done = _at(discharge, 10 * 60 + u[k, 5] * 5 * 60)
                r.status, r.closed_at, r.outcome = "completed", done, "1"  # 医嘱离院
                r.treatment_result = "improved" if u[k, 5] < 0.7 else "cured"
                ev.append((done, county_doctor, "complete", "arrived", "completed", "出院"))
        referrals.append(r)
        events.append(ev)
        # 《国家基本公共卫生服务规范》: the township follows the referred patient up within two weeks.
        after = FollowUp(kind="after_up", due_date=ref_day + dt.timedelta(days=14))
        if after.due_date < ctx.today and r.status in ("arrived", "completed"):
            after.status, after.done_at, after.done_by = "done", _at(after.due_date, 15 * 60), r.referred_by
            after.note = "电话随访：已在县医院住院治疗" if r.status == "arrived" else "电话随访：已出院，病情好转"
        follow_ups.append([after] if r.status not in ("declined", "cancelled") else [])
    # ---- down-referrals after county admissions of stable patients
    today = ctx.today
    downs = list(Encounter.objects.filter(type="inpatient", discharge_date__isnull=False, main_icd10__in=list(DOWN_DX),
                                          facility__type__in=["A100", "A210"], resident__isnull=False)
                 .values_list("id", "resident_id", "area_code", "discharge_date", "facility_id", "main_icd10")
                 .order_by("id"))
    pick = rng.random(len(downs)) < np.where([d[5] in ("I63.9", "S72.0") for d in downs], 0.45, 0.15)
    by_source = {(r.resident_id, r.to_facility_id): i for i, r in enumerate(referrals)}
    uu = rng.random((len(downs), 4))
    for j, (_eid, rid, area, discharge, fid, icd) in enumerate(downs):
        if not pick[j] or discharge is None:  # the query excludes a missing discharge date
            continue
        to_village = uu[j, 0] < 0.4
        clinic = ctx.facilities.get(f"{area}D600")
        center_fac = ctx.facilities.get(f"{area[:9]}B200")
        target = clinic if to_village and clinic else center_fac
        if target is None:
            continue
        dxname, rehab, meds = DOWN_DX[icd]
        sub = _at(discharge, 9 * 60 + uu[j, 1] * 6 * 60)
        src = by_source.get((rid, fid))
        r = Referral(direction="down", urgency="routine", priority=2, resident_id=rid, area_code=area,
                     from_facility=fac_by_pk[fid], from_level="county", referred_by=county_doctor, to_facility=target,
                     to_level=level_of_facility(target), icd10=icd, diagnosis=dxname,
                     reason="病情稳定，转回基层继续康复与随访",
                     rehab_plan=rehab, medication_plan=meds, submitted_at=sub,
                     summary={"taken": discharge.isoformat(), "encounters": []})
        if src is not None:
            sources[len(referrals)] = src
        receiver = township_doctor.get(target.pk) if target.care_level == "township" else None
        ans = sub + dt.timedelta(hours=float(2 + 40 * uu[j, 2]))
        ev = [(sub, county_doctor, "create", "", "draft", ""),
              (sub, county_doctor, "submit", "draft", "submitted", "")]
        fus = []
        if (today - discharge).days >= 3:
            r.status, r.answered_at, r.answered_by, r.arrived_at = "arrived", ans, receiver, ans + dt.timedelta(days=1)
            ev += [(ans, receiver, "accept", "submitted", "accepted", ""),
                   (r.arrived_at, receiver, "arrive", "accepted", "arrived", "")]
        else:
            r.status = "submitted"
        all_done = True
        for days in DOWN_FOLLOW_UP_DAYS:
            fu_due = discharge + dt.timedelta(days=days)
            fu = FollowUp(due_date=fu_due)
            if fu_due < today and r.status == "arrived":
                if uu[j, 3] < 0.9:
                    fu.status, fu.done_at, fu.done_by = "done", _at(fu_due, 10 * 60), receiver
                    fu.note = "病情稳定，按计划继续治疗"
                else:
                    fu.status, fu.note, fu.done_at = "missed", "电话未接通，外出务工", _at(fu_due, 16 * 60)
            else:
                all_done = False
            fus.append(fu)
        if all_done and r.status == "arrived":
            r.status, r.closed_at, r.outcome = "completed", _at(discharge + dt.timedelta(days=91), 10 * 60), "1"
            r.treatment_result = "improved"
            ev.append((r.closed_at, receiver, "complete", "arrived", "completed", "随访计划完成"))
        referrals.append(r)
        events.append(ev)
        follow_ups.append(fus)
    _live(ctx, rng, center, desk, county_doctor, township_doctor, referrals, events, follow_ups, rules)
    with transaction.atomic():
        Referral.objects.bulk_create(referrals, batch_size=2000)
        for i, src in sources.items():
            referrals[i].source_referral_id = referrals[src].pk
        Referral.objects.bulk_update([r for r in referrals if r.source_referral_id], ["source_referral"],
                                     batch_size=2000)
        ReferralEvent.objects.bulk_create(
            [ReferralEvent(referral=r, at=at, actor=actor, action=action, from_status=a, to_status=b, note=note)
             for r, ev in zip(referrals, events, strict=False) for at, actor, action, a, b, note in ev],
            batch_size=5000)
        for r, fus in zip(referrals, follow_ups, strict=False):
            for fu in fus:
                fu.referral = r
        FollowUp.objects.bulk_create([fu for fus in follow_ups for fu in fus], batch_size=5000)
        for r in referrals:
            if r.status == "submitted" and r.due_at and r.escalated_at is None:
                schedule(ref_services.ESCALATE_JOB, r.due_at, {"referral": r.pk}, key=f"referral:{r.pk}")
    task.done()
    ctx.extra["referral_count"] = len(referrals)


def _live(ctx, rng, center, desk, county_doctor, township_doctor, referrals, events, follow_ups, rules) -> None:
    """Work waiting at the demo's now (the real clock when generated for today): an unanswered queue at
    the center (two already overdue) and
    down-referrals for the demo village and township doctors to receive."""
    now = ctx.now or timezone.now()
    people = ctx.extra["people"]
    demo_village = User.objects.filter(username="village_doctor").select_related("facility").first()
    demo_township = User.objects.filter(username="township_doctor").select_related("facility").first()
    rural = [i for i, p in enumerate(people) if not p.village_code.startswith(people[0].village_code[:6] + "100")]
    plan = [("green", "I63.9", "脑梗死", 9), ("green", "R07.4", "胸痛（疑似急性冠脉综合征）", 4),
            ("urgent", "J44.1", "慢阻肺急性加重", 22), ("routine", "K80.2", "胆囊结石", 35),
            ("routine", "M17.9", "膝关节病", 70), ("routine", "I10", "原发性高血压", 150),
            ("urgent", "I50.9", "心力衰竭", 48), ("green", "S06.5", "颅脑损伤", 19)]
    lead = ctx.community.lead_facility
    for k, (urgency, icd, name, minutes) in enumerate(plan):
        i = rural[int(rng.integers(0, len(rural)))]
        if k == 0 and demo_township is not None and demo_township.facility is not None:  # the demo township's own
            prefix = demo_township.facility.region.code[:9]
            i = next(j for j, p in enumerate(people) if p.village_code.startswith(prefix))
        p = people[i]
        origin = ctx.facilities[f"{p.village_code[:9]}B200"]
        sub = now - dt.timedelta(minutes=minutes)
        due = sub + dt.timedelta(minutes=center.sla_minutes(urgency))
        advice = advise(icd, "up", "township", "county", rules)
        r = Referral(direction="up", status="submitted", urgency=urgency, priority=PRIORITY[urgency], resident_id=i + 1,
                     area_code=p.village_code, center=center, from_facility=origin, from_level="township",
                     referred_by=township_doctor[origin.pk], to_facility=lead, to_level="county", icd10=icd,
                     diagnosis=name, reason="病情需要上级医院进一步诊治", submitted_at=sub, due_at=due,
                     escalated_at=due if due < now else None, guideline_rule_id=advice.rule.id if advice.rule else None,
                     guideline_warning=advice.warning, override_reason=OVERRIDES.get(icd, "") if advice.warning else "",
                     summary={"taken": now.date().isoformat(), "encounters": []})
        ev: list[Event] = [(sub, r.referred_by, "create", "", "draft", ""),
                           (sub, r.referred_by, "submit", "draft", "submitted", "")]
        if r.escalated_at:
            ev.append((due, None, "escalate", "submitted", "submitted", "超过响应时限未处理，已升级至主管"))
        referrals.append(r)
        events.append(ev)
        follow_ups.append([])
    for user in (demo_village, demo_township):
        if user is None or user.facility is None:
            continue
        prefix = user.facility.region.code if user.facility.care_level == "village" else user.facility.region.code[:9]
        local = [j for j, p in enumerate(people) if p.village_code.startswith(prefix)]
        for k in range(2):
            i = local[int(rng.integers(0, len(local)))]
            icd = ("I63.9", "S72.0")[k]
            dxname, rehab, meds = DOWN_DX[icd]
            sub = now - dt.timedelta(hours=3 + 20 * k)
            r = Referral(direction="down", status="submitted", urgency="routine", priority=2, resident_id=i + 1,
                         area_code=people[i].village_code, from_facility=lead, from_level="county",
                         referred_by=county_doctor, to_facility=user.facility,
                         to_level=level_of_facility(user.facility),
                         icd10=icd, diagnosis=dxname, reason="病情稳定，转回基层继续康复与随访", rehab_plan=rehab,
                         medication_plan=meds, submitted_at=sub,
                         summary={"taken": sub.date().isoformat(), "encounters": []},
                         due_at=sub + dt.timedelta(hours=center.sla_down_hours))
            events.append([(sub, county_doctor, "create", "", "draft", ""),
                           (sub, county_doctor, "submit", "draft", "submitted", "")])
            referrals.append(r)
            follow_ups.append([FollowUp(due_date=now.date() + dt.timedelta(days=d)) for d in DOWN_FOLLOW_UP_DAYS])

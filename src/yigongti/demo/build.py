"""``yigongti generate``: the demo county, step by step, deterministic by seed.

Each domain adds a step (a function taking the DemoContext) to STEPS; a step reads what earlier
steps left in the context and bulk-loads its rows. Passwords are the only thing not derived
from the seed: they are generated afresh and printed."""

from __future__ import annotations

import datetime as dt
import time

from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .accounts import build_accounts
from .assets import build_assets
from .chronic import build_chronic
from .context import DemoContext
from .distribution import build_distribution
from .emergency import build_emergency
from .empi import build_index_imports
from .encounters import build_encounters, refresh_indicator_facts
from .familydoctor import build_assessment_and_due, build_familydoctor, build_fulfilment
from .ihospital import build_ihospital
from .insurance import build_insurance
from .orgs import build_facilities, build_regions, build_staff
from .people import generate_people, load_people
from .performance import build_performance, score_performance
from .pharmacy import build_pharmacy
from .prescribing import build_prescribing
from .publichealth import build_publichealth
from .referrals import build_referrals
from .telemedicine import build_telemedicine
from .workforce import build_workforce


def demo_now(today: dt.date) -> dt.datetime:
    """The moment the demo's live work (the referral queue, pending down-referrals) waits at: the real
    clock when the demo is generated for the real date, else 15:00 of ``today`` (deterministic)."""
    if today == timezone.localdate():
        return timezone.now()
    return dt.datetime.combine(today, dt.time(15), tzinfo=timezone.get_current_timezone())


def _people(ctx: DemoContext) -> None:
    t0 = time.perf_counter()
    people, households = generate_people(ctx)
    t1 = time.perf_counter()
    load_people(ctx, people, households)
    ctx.extra["timings"] = {"generate_people_s": t1 - t0, "load_people_s": time.perf_counter() - t1}


def _orgs(ctx: DemoContext) -> None:
    with transaction.atomic():
        build_regions(ctx)
        build_facilities(ctx)
        build_staff(ctx)


STEPS = [_orgs, _people, build_accounts, build_encounters, build_index_imports, build_referrals,
         build_familydoctor, build_chronic, build_publichealth, build_fulfilment,  # family doctors, 两病, 公卫
         build_insurance, build_telemedicine, build_emergency, build_assets, build_workforce, build_pharmacy,
         build_distribution, build_prescribing, build_ihospital, build_performance, build_assessment_and_due,
         refresh_indicator_facts, score_performance]


def build_demo(population: int = 450_000, seed: int = 1, reset: bool = True, progress: bool = False,
               today: dt.date | None = None) -> list[dict]:
    """Build the demo county into the configured database; returns the demo logins.

    Its activity (encounters, settlements, referrals, deaths) runs for the twelve months up to ``today``
    (the real date unless given), with the settlements of the twelve months before that; the same seed and
    ``today`` give the same county."""
    today = today or timezone.localdate()
    if reset:
        call_command("flush", interactive=False, verbosity=0, include_audit_log=True)  # the demo's own log too
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, disable=not progress) as bar:
        ctx = DemoContext(seed=seed, population=population, today=today, now=demo_now(today),
                          progress=bar if progress else None)
        for step in STEPS:
            step(ctx)
    from django.core.cache import cache

    from yigongti.orgs.auth_otp import enrol_demo_logins

    enrol_demo_logins(ctx.logins)  # privileged demo accounts: a TOTP secret and recovery codes to print
    cache.clear()
    build_demo.last_context = ctx  # type: ignore[attr-defined]  # the bench reads timings from here
    return ctx.logins

"""The resident index's demo: other systems' patient lists imported through the real import.

A sample of the county's people is exported, messily, from the county HIS, township clinic
systems, village records and the public-health archive (the EMPI's record generator), then
imported as the community manager would: most records link, some create provisional persons
and queue for review, and the review queue has work to show."""

from __future__ import annotations

import datetime as dt
import tempfile

import pyarrow as pa

from yigongti.core.actor import Actor
from yigongti.orgs.models import User
from yigongti.residents.importing import commit_import, preview_import
from yigongti.residents.matching.io import write_table
from yigongti.residents.matching.names import char_pinyin
from yigongti.residents.matching.synth import EXTRA_CHARS, emit_records

from .context import DemoContext

SAMPLE_SHARE = 0.01
MAX_PERSONS = 400
HARD_CASES = 40  # keeps the demo's start quick; `yigongti empi link` is the path for whole files


def _persons_table(ctx: DemoContext, picks: list[int]) -> pa.Table:
    people = ctx.extra["people"]
    regions = ctx.regions
    cols: dict[str, list] = {k: [] for k in ("person_id", "name", "sex", "birth_date", "id_number", "phone", "township",
                                             "village", "address", "household_id", "parent_id", "twin")}
    for i in picks:
        p = people[i]
        village = regions[p.village_code]
        township = regions[p.village_code[:9] + "000"]
        for key, value in (("person_id", i + 1), ("name", p.name), ("sex", p.sex), ("birth_date", p.birth),
                           ("id_number", p.id_number), ("phone", p.phone or None), ("township", township.name),
                           ("village", village.name), ("address", f"{township.name}{village.name}"),
                           ("household_id", str(p.household)), ("parent_id", None), ("twin", False)):
            cols[key].append(value)
    types = {"birth_date": pa.date32(), "twin": pa.bool_(), "person_id": pa.int64(), "parent_id": pa.int64()}
    return pa.table({k: pa.array(v, types.get(k, pa.string())) for k, v in cols.items()})


def _homophone(name: str, rng) -> str:
    """Swap the last character for another with the same pinyin (国→郭), as a clerk might type it."""
    last = name[-1]
    same = [c for c in EXTRA_CHARS if c != last and char_pinyin(c) == char_pinyin(last)]
    return name[:-1] + rng.choice(same) if same else name[:-1] + "某"


def _hard_cases(ctx: DemoContext, rng, picks: list[int], schema: pa.Schema) -> pa.Table:
    """Records a machine should not decide alone: no ID, a homophone, the birth date a day off and a
    new phone. They become provisional persons with an open review, so the queue has work to show."""
    people = ctx.extra["people"]
    rows = []
    for k, i in enumerate(rng.sample(picks, min(HARD_CASES, len(picks)))):
        p = people[i]
        birth = p.birth + dt.timedelta(days=1)
        rows.append({"record_id": f"PH-{k:04d}", "source_system": "公共卫生档案", "name": _homophone(p.name, rng),
                     "sex": "男" if p.sex == "M" else "女", "birth_date": birth.isoformat(), "id_number": None,
                     "phone": f"13{rng.randrange(10**9):09d}", "address": None, "household_id": None,
                     "true_person_id": i})
    return pa.Table.from_pylist(rows, schema=schema)


def build_index_imports(ctx: DemoContext) -> None:
    rng = ctx.pyrandom("empi")
    with_id = [i for i, p in enumerate(ctx.extra["people"]) if p.id_number]  # the generator starts from a valid ID
    picks = sorted(rng.sample(with_id, min(MAX_PERSONS, max(20, int(len(with_id) * SAMPLE_SHARE)))))
    records = emit_records(_persons_table(ctx, picks), seed=ctx.seed)
    records = pa.concat_tables([records, _hard_cases(ctx, rng, picks, records.schema)])
    manager = User.objects.get(username="manager")
    task = ctx.task("主索引导入演示", 4)
    with tempfile.TemporaryDirectory() as tmp:
        for k, system in enumerate(sorted(set(records.column("source_system").to_pylist()))):
            mask = pa.compute.equal(records.column("source_system"), system)
            part = records.filter(mask).drop_columns(["true_person_id"])
            path = f"{tmp}/{k}.csv"
            write_table(part, path)
            # The demo imports as the community's manager: the manager's scope decides what the rows may reach.
            batch = preview_import(path, f"{system}-患者名单.csv", system, actor=Actor.from_user(manager))
            commit_import(batch, actor=Actor.from_user(manager))
            task.advance()
    task.done()

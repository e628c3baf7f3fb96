"""Messy multi-source resident records with ground truth, for tests, defaults and benchmarks.

Two steps, so the demo county generator can replace the first one later:

1. ``generate_persons`` — a population of true persons in households (couples, children, twins,
   grandparents) in 蓝山县 (431127; older residents may still carry the pre-1995 code 432927).
2. ``emit_records`` — for any such population, ~1.6 records per person from four source systems,
   each with its own formats and its own rates of the errors seen in county data: homophone,
   near-homophone, look-alike and traditional characters, dropped and swapped characters, dates
   off by a day or with month and day swapped, ID typos and transpositions, 15-digit legacy
   numbers, missing IDs, children registered under a parent's number, changed phones, gaps.

Deterministic by seed. Scalar draws use ``random.Random``; only the per-record corruption of the
selected records loops in Python.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import zhconv

from yigongti.core.idcard import make_id_number

from .names import SIMILAR_LOOKING_GROUPS, char_pinyin, fold_syllable

# Surname shares (%) roughly as in national statistics; Hunan differs a little, which is fine.
SURNAMES = (
    "王7.2 李7.2 张6.8 刘5.4 陈4.5 杨3.1 黄2.2 赵2.2 吴2.1 周2.0 徐1.6 孙1.5 马1.4 朱1.4 胡1.3 郭1.1 何1.1 "
    "高1.0 林1.0 罗0.9 郑0.9 梁0.9 谢0.8 宋0.8 唐0.8 许0.7 韩0.7 冯0.6 邓0.6 曹0.6 彭0.6 曾0.6 肖0.5 田0.5 "
    "董0.5 袁0.5 潘0.5 于0.5 蒋0.5 蔡0.5 余0.4 杜0.4 叶0.4 程0.4 苏0.4 魏0.4 吕0.4 丁0.4 任0.4 沈0.4 姚0.3 "
    "卢0.3 姜0.3 崔0.3 钟0.3 谭0.3 陆0.3 汪0.3 范0.3 金0.3 石0.3 廖0.3 贾0.2 夏0.2 韦0.2 付0.2 方0.2 白0.2 "
    "邹0.2 孟0.2 熊0.2 秦0.2 邱0.2 江0.2 尹0.2 薛0.2 闫0.2 段0.2 雷0.2 侯0.2 龙0.2 史0.2 陶0.2 黎0.2 贺0.2 "
    "顾0.1 毛0.1 郝0.1 龚0.1 邵0.1 万0.1 钱0.1 严0.1 覃0.1 武0.1 戴0.1 莫0.1 孔0.1 欧阳0.05 盘0.1"
)
MALE_CHARS = (
    "伟强磊军勇杰涛明超刚平辉鹏华飞斌宇浩凯健俊帆帅旭宁龙林波志建国峰文亮成新海东春泽晨博子轩睿然"
    "杨兵勤海永德福贵生荣光天鑫宏毅振兴立家祥瑞锦嘉鸿松柏德安阳晓富"
)
FEMALE_CHARS = (
    "芳娜敏静丽艳娟霞秀英桂兰玲萍红梅琳燕雪慧莉倩婷颖琴晶洁云凤佳欣怡悦涵梓萱雨诗月婉莹珍彩菊"
    "翠巧美娇爱红丹秋晓蓉露嘉妍琪淑惠慧春"
)
TOWNSHIPS = (
    "塔峰镇", "总市镇", "所城镇", "新圩镇", "祠堂圩镇", "楠市镇", "毛俊镇", "土市镇", "太平圩镇",
    "竹管寺镇", "浆洞瑶族乡", "汇源瑶族乡", "犁头瑶族乡", "荆竹瑶族乡", "湘江源瑶族乡",
)
VILLAGE_PARTS = ("石门 新田 上洞 下洞 高阳 东岭 西山 竹林 大塘 小江 龙口 枫树 "
                 "桥头 水口 凤凰 黄家 李家 茶园 岭脚 田心 塘背 上村 下坪 和平")
EXTRA_CHARS = (  # more characters for homophone and near-homophone substitutes
    "卫为维位未围玮炜纬威微薇魏韦违唯惟委尾喂慰蔚味伟芬分纷奋粪份丰风锋枫封疯峰冯凤奉洪红宏虹鸿弘"
    "宁凝柠拧泞玲铃凌陵灵零龄领岭令兰蓝澜岚篮栏懒烂浪朗郎狼廊琅娜纳拿呐南男楠难李里理力历丽立利"
    "栗莉梨黎俪你倪尼泥拟逆年念宁恋连莲廉联怜练炼良梁粮凉量亮谅两辆张章彰掌涨丈杖帐仗障障赵照召"
    "兆罩照昭志智治致制质至直知之芝枝支止只指纸子字自紫资姿兹滋仔梓籽陈晨辰尘臣沉趁衬诚成城程承"
    "乘盛胜升生声圣申深身伸神沈审慎甚肾森僧思斯司丝私死四寺似嗣诗施师石时实识史使始士示世市式事"
    "是室视试饰舒书输叔淑殊树述数术杉山珊衫善扇闪陕三散伞桑嗓丧晶京精经井景静境敬竟镜金今津巾筋"
    "斤仅紧谨锦尽进近劲晋浸英鹰樱婴迎营盈影应硬映音因阴银吟寅引饮印胡湖虎户护互福付富复府辅甫"
    "夫扶符服浮伏芳方房防访放"
)


@dataclass(frozen=True)
class SourceProfile:
    """How one source system records people and how often it gets things wrong."""

    name: str
    share: float  # share of records
    sex_format: str  # "cn" 男/女, "mf" M/F, "gb" 1/2
    date_format: str  # "iso" or "compact" (YYYYMMDD)
    id_present: float
    legacy15: float  # share of people born before 1985 whose ID is stored in 15-digit form
    household_present: float
    phone_present: float
    address_full: float  # otherwise township + village only
    name_error: float  # multiplier on the base name-error rates


SOURCES = (
    SourceProfile("县人民医院HIS", 0.35, "cn", "iso", 0.88, 0.02, 0.15, 0.85, 0.75, 0.8),
    SourceProfile("乡镇卫生院HIS", 0.25, "gb", "compact", 0.75, 0.10, 0.40, 0.75, 0.55, 1.0),
    SourceProfile("村卫生室", 0.15, "mf", "iso", 0.45, 0.15, 0.75, 0.55, 0.30, 1.8),
    SourceProfile("公共卫生档案", 0.25, "gb", "compact", 0.95, 0.05, 0.95, 0.80, 0.90, 0.9),
)


def _weighted(spec: str) -> tuple[list[str], np.ndarray]:
    items, weights = [], []
    for tok in spec.split():
        i = next(k for k, c in enumerate(tok) if c.isdigit())
        items.append(tok[:i])
        weights.append(float(tok[i:]))
    w = np.array(weights)
    return items, w / w.sum()


def _zipf_pool(chars: str) -> tuple[list[str], np.ndarray]:
    pool = list(dict.fromkeys(chars))
    w = 1.0 / np.arange(1, len(pool) + 1) ** 0.9
    return pool, w / w.sum()


class _NameMaker:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.surnames, sw = _weighted(SURNAMES)
        self.s_cum = np.cumsum(sw).tolist()
        self.male, mw = _zipf_pool(MALE_CHARS)
        self.female, fw = _zipf_pool(FEMALE_CHARS)
        self.m_cum, self.f_cum = np.cumsum(mw).tolist(), np.cumsum(fw).tolist()

    def surname(self) -> str:
        return self.rng.choices(self.surnames, cum_weights=self.s_cum)[0]

    def given(self, sex: str, birth_year: int, first: str | None = None) -> str:
        pool, cum = (self.male, self.m_cum) if sex == "M" else (self.female, self.f_cum)
        # single-character given names were far more common for people born before ~1985
        single = self.rng.random() < (0.45 if birth_year < 1985 else 0.15)
        a = first or self.rng.choices(pool, cum_weights=cum)[0]
        if single and first is None:
            return a
        b = self.rng.choices(pool, cum_weights=cum)[0]
        while b == a:
            b = self.rng.choices(pool, cum_weights=cum)[0]
        return a + b


def generate_persons(n: int, seed: int = 0, today: dt.date = dt.date(2025, 6, 30)) -> pa.Table:
    """About ``n`` true persons in households, with valid IDs and household relations.

    Columns: person_id, name, sex (M/F), birth_date (date), id_number, phone, township, village,
    address, household_id, parent_id (a parent's person_id for children, else null), twin (bool).
    """
    rng = random.Random(seed)
    nm = _NameMaker(rng)
    villages = {t: [f"{rng.choice(VILLAGE_PARTS.split())}{'村' if k % 5 else '社区'}" for k in range(12)]
                for t in TOWNSHIPS}
    used_ids: set[str] = set()
    used_phones: set[str] = set()
    cols: dict[str, list] = {k: [] for k in ("person_id", "name", "sex", "birth_date", "id_number", "phone", "township",
                                             "village", "address", "household_id", "parent_id", "twin")}

    def phone() -> str:
        while True:
            p = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
            if p not in used_phones:
                used_phones.add(p)
                return p

    def id_for(birth: dt.date, sex: str) -> str:
        region = "432927" if birth.year < 1975 and rng.random() < 0.3 else "431127"
        while True:
            num = make_id_number(region, birth, rng.randrange(500), sex)
            if num not in used_ids:
                used_ids.add(num)
                return num

    def birth_in(year: int) -> dt.date:
        return dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(365))

    def add(name: str, sex: str, birth: dt.date, ph: str | None, hh: str, town: str, vil: str, addr: str,
            parent: int | None, twin: bool) -> int:
        pid = len(cols["person_id"])
        for k, v in (("person_id", pid), ("name", name), ("sex", sex), ("birth_date", birth),
                     ("id_number", id_for(birth, sex)), ("phone", ph), ("township", town), ("village", vil),
                     ("address", addr), ("household_id", hh), ("parent_id", parent), ("twin", twin)):
            cols[k].append(v)
        return pid

    h = 0
    while len(cols["person_id"]) < n:
        h += 1
        hh = f"HH{seed:02d}{h:07d}"
        town = rng.choice(TOWNSHIPS)
        vil = rng.choice(villages[town])
        addr = f"湖南省永州市蓝山县{town}{vil}{rng.randint(1, 12)}组{rng.randint(1, 80)}号"
        head_year = rng.randint(1940, 2000)
        surname = nm.surname()
        head = add(surname + nm.given("M", head_year), "M", birth_in(head_year), phone(), hh, town, vil, addr,
                   None, False)
        kind = rng.random()
        if kind < 0.12:
            continue  # one-person household
        wife_year = min(head_year + rng.randint(-2, 5), 2003)
        wife = add(nm.surname() + nm.given("F", wife_year), "F", birth_in(wife_year),
                   phone() if rng.random() < 0.8 else None, hh, town, vil, addr, None, False)
        mother_phone = cols["phone"][wife] or cols["phone"][head]
        if kind < 0.85:
            for _ in range(rng.choice((1, 1, 2, 2, 2, 3))):
                year = wife_year + rng.randint(20, 36)
                if year > today.year:
                    break
                birth = birth_in(year)
                if birth > today:
                    birth = today - dt.timedelta(days=rng.randrange(1, 300))
                twins = 2 if rng.random() < 0.04 else 1
                first = None
                for t in range(twins):
                    sex = rng.choice("MF")
                    given = nm.given(sex, year, first if t else None)
                    if twins == 2 and t == 0 and len(given) == 2 and rng.random() < 0.6:
                        first = given[0]  # twins often share the first given character (子涵/子轩)
                    own = phone() if today.year - year >= 18 else (mother_phone if rng.random() < 0.7 else None)
                    parent = head if rng.random() < 0.6 else wife
                    add(surname + given, sex, birth, own, hh, town, vil, addr, parent, twins == 2)
        else:
            gyear = max(head_year - rng.randint(22, 35), 1915)
            add(surname + nm.given("F" if rng.random() < 0.6 else "M", gyear), rng.choice("MF"), birth_in(gyear),
                None, hh, town, vil, addr, None, False)
    types = {"birth_date": pa.date32(), "twin": pa.bool_(), "person_id": pa.int64(), "parent_id": pa.int64()}
    return pa.table({k: pa.array(v, types.get(k, pa.string())) for k, v in cols.items()})


class _Corrupter:
    """Character substitution tables built once from the name-character pools."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        chars = set(MALE_CHARS + FEMALE_CHARS + EXTRA_CHARS + "".join(SURNAMES.split()))
        chars = {c for c in chars if not c.isdigit() and c != "."}
        by_py: dict[str, list[str]] = {}
        by_fold: dict[str, list[str]] = {}
        for c in sorted(chars):
            by_py.setdefault(char_pinyin(c), []).append(c)
            by_fold.setdefault(fold_syllable(char_pinyin(c)), []).append(c)
        self.homophones = {c: [d for d in by_py[char_pinyin(c)] if d != c] for c in chars}
        self.near = {c: [d for d in by_fold[fold_syllable(char_pinyin(c))] if char_pinyin(d) != char_pinyin(c)]
                     for c in chars}
        self.looks = {c: [d for d in g if d != c] for g in SIMILAR_LOOKING_GROUPS for c in g}

    def substitute(self, name: str, table: dict[str, list[str]]) -> str:
        positions = [i for i in range(1, len(name)) if table.get(name[i])]
        if not positions:
            return name
        i = self.rng.choice(positions)
        return name[:i] + self.rng.choice(table[name[i]]) + name[i + 1:]

    def corrupt_name(self, name: str, kind: str) -> str:
        if kind == "homophone":
            return self.substitute(name, self.homophones)
        if kind == "near":
            return self.substitute(name, self.near)
        if kind == "looks":
            return self.substitute(name, self.looks)
        if kind == "traditional":
            return zhconv.convert(name, "zh-hant")
        if kind == "drop" and len(name) >= 3:
            i = self.rng.randrange(1, len(name))
            return name[:i] + name[i + 1:]
        if kind == "swap" and len(name) >= 3:
            return name[0] + name[-1] + name[1:-1]
        return name


def _fmt_date(d: dt.date, fmt: str) -> str:
    return d.isoformat() if fmt == "iso" else d.strftime("%Y%m%d")


def _id_typo(num: str, rng: random.Random, transpose: bool) -> str:
    if transpose:
        i = rng.randrange(0, 16)
        if num[i] != num[i + 1]:
            return num[:i] + num[i + 1] + num[i] + num[i + 2:]
    i = rng.randrange(0, 17)
    return num[:i] + str((int(num[i]) + rng.randint(1, 9)) % 10) + num[i + 1:]


# base error rates per record (multiplied by the source's name_error for name errors)
NAME_ERRORS = (("homophone", 0.035), ("near", 0.015), ("looks", 0.012), ("traditional", 0.02), ("drop", 0.006),
               ("swap", 0.004))


def emit_records(persons: pa.Table, seed: int = 0, records_per_person: float = 1.6) -> pa.Table:
    """Records from the four source systems with a ``true_person_id`` column (the ground truth).

    Record ids are unique strings; the nine input columns are strings as in a CSV export.
    """
    rng = random.Random(seed + 1)
    nprng = np.random.default_rng(seed + 1)
    cor = _Corrupter(rng)
    p = {k: persons.column(k).to_pylist() for k in persons.column_names}
    n = persons.num_rows
    extra = records_per_person - 1.0
    counts = 1 + nprng.poisson(extra, n).clip(0, 5)
    person_of = np.repeat(np.arange(n), counts)
    source_of = nprng.choice(len(SOURCES), size=len(person_of), p=[s.share for s in SOURCES])
    out: dict[str, list] = {k: [] for k in ("record_id", "source_system", "name", "sex", "birth_date", "id_number",
                                            "phone", "address", "household_id", "true_person_id")}
    today_year = 2025
    for r, (i, s) in enumerate(zip(person_of.tolist(), source_of.tolist(), strict=True)):
        src = SOURCES[s]
        name = p["name"][i]
        x = rng.random()
        for kind, rate in NAME_ERRORS:
            x -= rate * src.name_error
            if x < 0:
                name = cor.corrupt_name(name, kind)
                break
        if rng.random() < 0.003:
            name = None
        birth: dt.date = p["birth_date"][i]
        y = rng.random()
        if y < 0.015:
            birth = birth + dt.timedelta(days=rng.choice((-1, 1)))
        elif y < 0.025 and birth.day <= 12 and birth.day != birth.month:
            birth = birth.replace(month=birth.day, day=birth.month)
        birth_txt = None if rng.random() < 0.02 else _fmt_date(birth, src.date_format)
        sex = p["sex"][i]
        formats = {"cn": {"M": "男", "F": "女"}, "mf": {"M": "M", "F": "F"}, "gb": {"M": "1", "F": "2"}}
        sex_txt: str | None = formats[src.sex_format][sex]
        if rng.random() < 0.02:
            sex_txt = None
        own_id: str = p["id_number"][i]
        idn: str | None = own_id
        parent = p["parent_id"][i]
        age = today_year - p["birth_date"][i].year
        if parent is not None and age < 16 and rng.random() < 0.08:
            idn = p["id_number"][parent]  # child registered under a parent's number
        elif rng.random() > src.id_present:
            idn = None
        else:
            z = rng.random()
            if z < 0.012:
                idn = _id_typo(own_id, rng, transpose=False)
            elif z < 0.02:
                idn = _id_typo(own_id, rng, transpose=True)
            elif p["birth_date"][i].year < 1985 and rng.random() < src.legacy15:
                idn = own_id[:6] + own_id[8:17]
        phone = p["phone"][i]
        if phone is None and parent is not None:
            phone = p["phone"][parent]
        if rng.random() < 0.12:
            phone = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"  # number changed since
        if rng.random() > src.phone_present:
            phone = None
        addr = p["address"][i] if rng.random() < src.address_full else f"{p['township'][i]}{p['village'][i]}"
        if rng.random() < 0.04:
            addr = None
        hh = p["household_id"][i] if rng.random() < src.household_present else None
        for k, v in (("record_id", f"R{seed:02d}{r:08d}"), ("source_system", src.name), ("name", name),
                     ("sex", sex_txt), ("birth_date", birth_txt), ("id_number", idn), ("phone", phone),
                     ("address", addr), ("household_id", hh), ("true_person_id", i)):
            out[k].append(v)
    # shuffle so a file's order says nothing about who is who
    order = nprng.permutation(len(out["record_id"]))
    table = pa.table({k: pa.array(v, pa.int64() if k == "true_person_id" else pa.string()) for k, v in out.items()})
    return table.take(pa.array(order))


def generate(persons: int, seed: int = 0) -> tuple[pa.Table, pa.Table]:
    """(persons, records) in one call."""
    people = generate_persons(persons, seed)
    return people, emit_records(people, seed)

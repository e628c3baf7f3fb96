"""Chinese personal names: simplified form, pinyin keys, dialect folding, look-alike characters.

Everything here works per *character* and is cached, because a county has a few thousand distinct
name characters but millions of records: the batch linker converts each distinct character once and
then maps whole names with cheap table look-ups.
"""

from __future__ import annotations

import re
from functools import cache

import numpy as np
import zhconv
from pypinyin import Style, lazy_pinyin

# Surnames whose reading differs from the character's most common reading. Both sides of a
# comparison use the same table, so what matters is consistency; correctness helps homophones.
SURNAME_READINGS: dict[str, str] = {
    "单": "shan", "曾": "zeng", "仇": "qiu", "区": "ou", "解": "xie", "朴": "piao", "查": "zha",
    "盖": "ge", "尉": "yu", "乐": "yue", "覃": "qin", "翟": "zhai", "黑": "he", "缪": "miao",
    "种": "chong", "繁": "po", "秘": "bi", "万俟": "moqi", "长孙": "zhangsun", "尉迟": "yuchi",
}
COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "长孙", "夏侯", "令狐", "慕容", "万俟")

# Groups of characters that are easily misread or mistyped for one another in handwriting and
# handwriting-recognition input (形近字), restricted to characters that occur in names. A
# substitution inside a group is weak evidence against identity; an unrelated substitution is
# strong evidence (twins are usually named 子涵 / 子轩, not 子涵 / 子函).
SIMILAR_LOOKING_GROUPS: tuple[str, ...] = (
    "己已巳", "未末", "士土", "王玉主", "日曰", "戊戌戍戎", "人入八", "大太犬", "天夭", "千干于",
    "侯候", "宏弘", "微徽", "暖暧", "祥详", "炜玮伟", "娟涓绢鹃", "丽俪", "玲铃伶怜羚", "辉晖",
    "斌彬", "萍苹", "婷停亭", "红虹", "鸿洪", "芳方", "鹏朋", "峰锋蜂烽", "刚钢纲岗", "君群郡",
    "晴睛清情请", "静净", "英瑛", "梅悔诲", "霞暇瑕", "凤风", "凯恺铠", "浩皓", "颖颍", "琳淋",
    "莉利俐", "菊鞠", "桂挂", "建健键", "楠南", "宇字", "东冻栋", "泽择", "华毕", "娇骄",
    "桃挑", "俊峻骏竣", "晨辰", "杨扬汤场", "振赈", "佳隹", "锦绵", "雪雷", "春舂", "秀莠",
    "贞页", "兰岚", "军车", "林材", "珍诊", "艳滟", "勇甬", "福富",
)


@cache
def similar_group_of(char: str) -> int:
    """Index of the look-alike group containing ``char``, or -1."""
    for i, group in enumerate(SIMILAR_LOOKING_GROUPS):
        if char in group:
            return i
    return -1


@cache
def simplified_char(char: str) -> str:
    """Traditional → simplified for one character (zhconv's mainland table)."""
    return zhconv.convert(char, "zh-cn")


def simplify(name: str) -> str:
    """A name in simplified characters, whitespace and the interpunct of minority names removed."""
    return "".join(simplified_char(c) for c in name if not c.isspace() and c not in "·•.")


@cache
def char_pinyin(char: str) -> str:
    """Toneless pinyin of one character (``ü`` written ``v``); non-Chinese characters as is."""
    return lazy_pinyin(char, style=Style.NORMAL)[0].lower()


def fold_syllable(syllable: str) -> str:
    """Merge the initials and finals that southern and Hunan speakers commonly confuse.

    zh/z, ch/c, sh/s (flat vs retroflex), n/l, f/h (湖 read ``fu``), and -ng/-n (an/ang, en/eng,
    in/ing). The result is a key, not a real syllable.
    """
    s = syllable
    for retroflex in ("zh", "ch", "sh"):
        if s.startswith(retroflex):
            s = retroflex[0] + s[2:]
            break
    if s.startswith("n"):
        s = "l" + s[1:]
    elif s.startswith("f"):
        s = "h" + s[1:]
    if s.endswith("ng") and len(s) > 2:
        s = s[:-1]
    return s


def split_surname(name: str) -> tuple[str, str]:
    """(surname, given name); two-character compound surnames such as 欧阳 are recognised."""
    if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES:
        return name[:2], name[2:]
    return name[:1], name[1:]


def name_syllables(simplified: str) -> list[str]:
    """One toneless syllable per character, using surname readings for the first character."""
    if not simplified:
        return []
    surname, given = split_surname(simplified)
    reading = SURNAME_READINGS.get(surname)
    if reading is not None and len(surname) == 1:
        head = [reading]
    else:
        head = [SURNAME_READINGS.get(c, char_pinyin(c)) if i == 0 else char_pinyin(c) for i, c in enumerate(surname)]
    return head + [char_pinyin(c) for c in given]


def pinyin_key(name: str) -> str:
    """``"wang wei"`` for 王伟 and 汪伟 alike (homophones share the key)."""
    return " ".join(name_syllables(simplify(name)))


def folded_key(name: str) -> str:
    """Pinyin key after dialect folding: 刘兰 and 牛蓝 share ``liu lan``."""
    return " ".join(fold_syllable(s) for s in name_syllables(simplify(name)))


def is_garbled(name: str) -> bool:
    """True for mojibake and placeholders rather than a name (锟斤拷, å¼ ä¸‰, ???, U+FFFD)."""
    if not name or not name.strip():
        return True
    if "\ufffd" in name or "锟斤拷" in name or "烫烫烫" in name or "屯屯屯" in name:
        return True
    cjk = sum(1 for c in name if "\u3400" <= c <= "\u9fff" or "\uf900" <= c <= "\ufaff")
    latin1 = sum(1 for c in name if "\u00c0" <= c <= "\u00ff")
    if latin1 >= 2:  # UTF-8 bytes decoded as Latin-1
        return True
    if cjk == 0:
        # Romanised or minority names written in Latin letters are allowed; punctuation is not.
        return not any(c.isalpha() for c in name)
    return False


MAX_CHARS = 4  # names longer than this (rare minority names) are compared on their first four


class NameTable:
    """Distinct simplified names of a batch with per-character codes for vectorised comparison.

    ``chars``, ``syllables``, ``folded`` and ``looks`` are (k, 4) integer arrays (0 = no char):
    code points, pinyin syllable ids, dialect-folded syllable ids and look-alike group ids.
    ``fold_count`` counts records per folded pinyin key, for common-name down-weighting.
    Built column-wise: each distinct *character* is converted once, names are mapped by lookup.
    """

    def __init__(self, simplified_names: list[str]):
        self.names = simplified_names
        k = len(simplified_names)
        arr = np.array(simplified_names if k else [""], dtype=f"U{MAX_CHARS}")[:k]
        self.chars = arr.view(np.uint32).reshape(k, MAX_CHARS).astype(np.int64)
        self.length = (self.chars > 0).sum(axis=1).astype(np.int8)
        codes, inv = np.unique(self.chars, return_inverse=True)
        inv = inv.reshape(k, MAX_CHARS)
        glyphs = [chr(c) if c else "" for c in codes.tolist()]
        readings = [char_pinyin(g) if g else "" for g in glyphs]
        syl_id = {s: i for i, s in enumerate(sorted(set(readings)))}  # "" → 0 sorts first
        folded = [fold_syllable(r) if r else "" for r in readings]
        fold_id = {s: i for i, s in enumerate(sorted(set(folded)))}
        self.syllables = np.array([syl_id[r] for r in readings], dtype=np.int64)[inv]
        self.folded = np.array([fold_id[r] for r in folded], dtype=np.int64)[inv]
        # surnames with their own reading (曾 zeng, 单 shan…) replace the first syllable
        for ch, reading in SURNAME_READINGS.items():
            if len(ch) != 1:
                continue
            first = self.chars[:, 0] == ord(ch)
            if first.any():
                sid = syl_id.setdefault(reading, len(syl_id))
                fid = fold_id.setdefault(fold_syllable(reading), len(fold_id))
                self.syllables[first, 0] = sid
                self.folded[first, 0] = fid
        # characters outside every look-alike group get a unique negative id (never "similar")
        looks = np.array([similar_group_of(g) + 1 or -c for g, c in zip(glyphs, codes.tolist(), strict=True)],
                         dtype=np.int64)
        self.looks = np.where(self.chars > 0, looks[inv], 0)
        compound = np.isin(self.chars[:, 0] * 65536 + self.chars[:, 1],
                           [ord(c[0]) * 65536 + ord(c[1]) for c in COMPOUND_SURNAMES]) & (self.length >= 3)
        self.surname_len = np.where(compound, 2, 1).astype(np.int8)
        self.py_key = _row_ids(self.syllables)
        self.fold_key = _row_ids(self.folded)
        self.sorted_key = _row_ids(np.sort(self.folded, axis=1))
        self.fold_count = np.zeros(k, dtype=np.int64)

    def set_counts(self, name_idx: np.ndarray) -> None:
        """Count records per folded key (``name_idx`` maps records to rows of this table)."""
        present = name_idx[name_idx >= 0]
        per_name = np.bincount(present, minlength=len(self.names))
        per_key = np.bincount(self.fold_key, weights=per_name, minlength=int(self.fold_key.max(initial=0)) + 1)
        self.fold_count = per_key[self.fold_key].astype(np.int64)


def _row_ids(matrix: np.ndarray) -> np.ndarray:
    """Dense id per distinct row of a small-integer matrix."""
    if len(matrix) == 0:
        return np.zeros(0, dtype=np.int64)
    packed = np.zeros(len(matrix), dtype=np.int64)
    for j in range(matrix.shape[1]):
        packed = packed * 4096 + matrix[:, j]  # < 4096 distinct syllables, 4 columns fit in int64
    return np.unique(packed, return_inverse=True)[1].astype(np.int64)


_PLAIN_NAME = re.compile(r"[\u3400-\u9fff]{1,8}")
_MOJIBAKE = re.compile("锟斤拷|烫烫|屯屯")  # GBK/UTF-8 mix-ups and uninitialised-memory fillers


def build_name_table(raw_names: list[str | None]) -> tuple[NameTable, np.ndarray, np.ndarray, np.ndarray]:
    """Distinct raw names → (table, raw→table index (-1 unusable), garbled mask, traditional mask)."""
    chars = set("".join(r for r in raw_names if r))
    to_simple: dict[int, str | None] = {
        ord(c): simplified_char(c) for c in chars if "\u3400" <= c <= "\u9fff" or "\uf900" <= c <= "\ufaff"
    }
    to_simple.update({ord(c): None for c in " \t\u3000·•."})
    simplified: dict[str, int] = {}
    index = np.full(len(raw_names), -1, dtype=np.int64)
    garbled = np.zeros(len(raw_names), dtype=bool)
    traditional = np.zeros(len(raw_names), dtype=bool)
    for i, raw in enumerate(raw_names):
        if raw is None:
            continue
        if (not _PLAIN_NAME.fullmatch(raw) or _MOJIBAKE.search(raw)) and is_garbled(raw):
            garbled[i] = True
            continue
        simple = raw.translate(to_simple)
        if not simple:
            garbled[i] = True
            continue
        if simple != raw:
            traditional[i] = any(c != simplified_char(c) for c in raw)
        index[i] = simplified.setdefault(simple, len(simplified))
    return NameTable(list(simplified)), index, garbled, traditional

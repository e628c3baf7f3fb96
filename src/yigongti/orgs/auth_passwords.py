"""Password policy (等保 2.0 三级: length, complexity, no common or guessable passwords), beside Django's
validators (minimum length 10, common list, all-numeric, similarity to the account's attributes).

``ChineseContextValidator`` refuses what a password list built for a Chinese hospital would try first: a
common word, pinyin word or the project's name with digits and symbols around it (``Yigongti2024``,
``Woaini1314!``, ``P@ssw0rd``), keyboard walks (``1qaz2wsx``, ``qwer1234``) and the account name inside the
password. Django's CommonPasswordValidator compares the whole password only; here the letters are compared
after undoing digit-for-letter substitutions and dropping digits and symbols.
"""

from __future__ import annotations

import functools
import gzip
from pathlib import Path

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# Pinyin words and names, the platform's own words, and English words that appear on every breached list.
_CONTEXT_TEXT = """
yigongti yigongtiping yigongtipingtai ygt yigong gongti yiliao yiliaogongtongti lanshan yongzhou hunan
weijian weijianwei weijianju weisheng weishengyuan weishengju yiyuan yisheng hushi huli yibao yaofang zhuanzhen
xiangcun cunyi jiating jiatingyisheng
woaini aini woaini1314 iloveyou wodemima mima mimamima nihao nihaoma zhongguo beijing shanghai guangzhou
shenzhen changsha xiaoming xiaohong zhangwei wangwei wangfang liwei lina zhangmin lijing wangjing liuwei
laogong laopo baobei qinqin shuaige meinv xingfu kuaile pingan jiayou haoren woshishui wangluo diannao
admin administrator root test ceshi guest user password passwd pass welcome hello letmein qwerty
abc abcd abcdef master monkey dragon sunshine princess football superman hospital doctor nurse health
"""
CONTEXT_WORDS = _CONTEXT_TEXT.split()

# Substitutions people use to dress up a word: P@ssw0rd, Y1g0ngt1.
_LEET = str.maketrans({"@": "a", "4": "a", "0": "o", "1": "i", "!": "i", "3": "e", "$": "s", "5": "s",
                       "7": "t", "+": "t", "8": "b", "9": "g", "|": "l"})

# Keyboard rows and columns, and the alphabet; shifted symbols count as their digit (!@#$ = 1234).
_WALKS = ["1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm", "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
          "qazwsxedcrfvtgbyhnujmikolp", "zaq1xsw2cde3vfr4bgt5nhy6mju7", "1q2w3e4r5t6y7u8i9o0p", "qawsedrftgyhujikolp",
          "abcdefghijklmnopqrstuvwxyz"]
_SHIFTED = str.maketrans({"!": "1", "@": "2", "#": "3", "$": "4", "%": "5", "^": "6", "&": "7", "*": "8",
                          "(": "9", ")": "0"})


@functools.cache
def _common_words() -> frozenset[str]:
    path = Path(password_validation.__file__).parent / "common-passwords.txt.gz"
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        django_list = {line.strip() for line in fh if line.strip()}
    return frozenset(django_list | set(CONTEXT_WORDS))


_DECORATION = set("0123456789_-.,!@#$%^&*()+=~? ")


def letters_cores(password: str) -> set[str]:
    """The words under the decoration: lower case, digits and symbols around it dropped, digit-for-letter
    substitutions inside it undone.

    ``P@ssw0rd!2024`` → ``password``; ``Yigongti2024`` → ``yigongti``; ``Y1g0ngt1!`` → ``yigongti``. A trailing
    digit may be a year or a substituted letter, so every split into word + decoration is tried."""
    s = password.strip().lower()
    start = 0
    while start < len(s) and s[start] in _DECORATION:
        start += 1
    cores = set()
    end = len(s)
    while end > start:
        word = s[start:end].translate(_LEET)
        cores.add("".join(c for c in word if "a" <= c <= "z"))
        if s[end - 1] not in _DECORATION:
            break
        end -= 1
    return cores


def keyboard_walk_share(password: str) -> tuple[int, int]:
    """(longest run, characters inside runs of ≥ 4) that follow a keyboard row or column, or the alphabet,
    forwards or backwards."""
    s = password.lower().translate(_SHIFTED)
    walks = _WALKS + [w[::-1] for w in _WALKS]
    longest = 0
    covered_at: set[int] = set()
    for i in range(len(s)):
        k = 1
        while i + k < len(s) and any(s[i:i + k + 1] in w for w in walks):
            k += 1
        if k >= 2:
            longest = max(longest, k)
        if k >= 4:
            covered_at.update(range(i, i + k))
    return longest, len(covered_at)


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's, with a Chinese message (Django's own zh_Hans catalogue lacks the current wording)."""

    def get_error_message(self) -> str:
        return _("密码太短，至少需要 %(n)d 个字符。") % {"n": self.min_length}

    def validate(self, password: str, user=None) -> None:
        if len(password) < self.min_length:
            raise ValidationError(self.get_error_message(), code="password_too_short")

    def get_help_text(self) -> str:
        return _("至少 %(n)d 个字符。") % {"n": self.min_length}


class CharacterClassesValidator:
    """At least ``min_classes`` of: upper-case letters, lower-case letters, digits, symbols (等保: 复杂度)."""

    def __init__(self, min_classes: int = 3):
        self.min_classes = min_classes

    def validate(self, password: str, user=None) -> None:
        classes = [any(c.isupper() for c in password), any(c.islower() for c in password),
                   any(c.isdigit() for c in password), any(not c.isalnum() and not c.isspace() for c in password)]
        if sum(classes) < self.min_classes:
            raise ValidationError(self.get_help_text(), code="password_too_simple")

    def get_help_text(self) -> str:
        return _("密码须包含大写字母、小写字母、数字和符号中的至少 %(n)d 类。") % {"n": self.min_classes}


class ChineseContextValidator:
    """Refuse common words, pinyin and the project's name under decoration, keyboard walks, and the account name."""

    def validate(self, password: str, user=None) -> None:
        common = _common_words()
        if any(len(core) >= 3 and core in common for core in letters_cores(password)):
            raise ValidationError(_("密码以常见单词、拼音或本平台名称为主体，容易被猜到，请换一个。"),
                                  code="password_common_word")
        longest, covered = keyboard_walk_share(password)
        if longest >= 6 or covered * 2 >= len(password):
            raise ValidationError(_("密码含有键盘连续按键或连续字符（如 qwerty、1qaz2wsx、123456），请换一个。"),
                                  code="password_keyboard_walk")
        username = (user.get_username() if user is not None else "") or ""
        low = password.lower()
        if len(username) >= 3 and (username.lower() in low or username.lower()[::-1] in low):
            raise ValidationError(_("密码不能包含账号名。"), code="password_contains_username")

    def get_help_text(self) -> str:
        return _("不能使用常见单词、拼音、本平台名称加数字、键盘连续按键或账号名。")

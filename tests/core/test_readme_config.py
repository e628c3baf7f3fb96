"""Every environment variable the code reads is documented in the README's configuration table."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _variables_read_by_the_code() -> set[str]:
    names: set[str] = set()
    pattern = re.compile(r"""(?:environ(?:\.get)?\(|environ\[|getenv\()\s*["']((?:YIGONGTI|DATABASE)_[A-Z0-9_]+)["']""")
    for path in (ROOT / "src" / "yigongti").rglob("*.py"):
        names |= set(pattern.findall(path.read_text(encoding="utf-8")))
    return names


def test_every_environment_variable_is_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([A-Z0-9_]+)`", readme, flags=re.M))
    missing = _variables_read_by_the_code() - documented
    assert not missing, f"document these in README.md's configuration table: {sorted(missing)}"

"""The pathways' tests run on the 120 network of ``tests/emergency/conftest.py`` (``ems``: the county hospital runs
every center, 塔峰镇卫生院 is a chest-pain unit)."""

from tests.emergency.conftest import build_ems, ems  # noqa: F401

"""What the app contributes to others at start-up (home panels, resident panels and timeline entries, indicators,
jobs, event capture from other apps). Each module of this list has a ``register()`` called in ``ready()`` (each a
helper's own file); a module not written yet is skipped."""

from __future__ import annotations

from yigongti.core.modules import register_modules

MODULES = ["home", "resident_panel", "indicators"]


def ready() -> None:
    register_modules("yigongti.publichealth", MODULES)

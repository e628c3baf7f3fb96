"""What an app's own modules contribute at start-up: ``register_modules("yigongti.telemedicine", ["home", …])``
imports each module of the package that exists and calls its ``register()`` (home panels, resident panels,
timeline entries, indicators …), so that an app's ``ready()`` lists its contributing modules in one place and a
module still being written does not stop the others. Takes names, imports no app itself."""

from __future__ import annotations

import importlib
from collections.abc import Iterable


def register_modules(package: str, names: Iterable[str]) -> None:
    for name in names:
        try:
            module = importlib.import_module(f"{package}.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"{package}.{name}":
                raise
            continue
        fn = getattr(module, "register", None)
        if fn is not None:
            fn()

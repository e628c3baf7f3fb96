"""What the demo's steps share: the seed, the random generators and what earlier steps built."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class DemoContext:
    seed: int
    population: int
    today: dt.date  # the day the demo's activity runs up to
    now: dt.datetime | None = None  # when its live work waits (build.demo_now)
    progress: Any = None  # a rich Progress, or None
    # Filled by the steps, for the steps after them:
    regions: dict[str, Any] = field(default_factory=dict)  # code -> Region
    facilities: dict[str, Any] = field(default_factory=dict)  # code -> Facility
    community: Any = None
    logins: list[dict] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def rng(self, name: str) -> np.random.Generator:
        """A generator per step, so that adding a step never changes what another one draws."""
        return np.random.default_rng([self.seed, *name.encode()])

    def pyrandom(self, name: str) -> random.Random:
        return random.Random(f"{self.seed}:{name}")

    def task(self, description: str, total: int | None = None):
        if self.progress is None:
            return _NullTask()
        return _Task(self.progress, self.progress.add_task(description, total=total))


class _NullTask:
    def advance(self, n: int = 1) -> None:
        pass

    def done(self) -> None:
        pass


class _Task:
    def __init__(self, progress, task_id):
        self.progress, self.task_id = progress, task_id

    def advance(self, n: int = 1) -> None:
        self.progress.advance(self.task_id, n)

    def done(self) -> None:
        t = self.progress.tasks[self.progress.task_ids.index(self.task_id)]
        self.progress.update(self.task_id, completed=t.total or t.completed, total=t.total or t.completed)

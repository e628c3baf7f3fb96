"""Background work of the 120 command center under ``yigongti worker`` (``core.jobs.discover`` imports this module):
importing the services registers their handlers."""

from __future__ import annotations

from .services import planning  # noqa: F401  (emergency.station_plan)

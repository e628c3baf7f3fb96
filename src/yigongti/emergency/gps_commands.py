"""``yigongti emergency gps-simulate``: move the vehicles on a mission along their road routes and record their
positions, as a GPS feed would (the demo's stand-in for the vehicles' terminals). Added to the ``emergency``
command group (``commands.py``) with ``emergency.add_command(gps_simulate)``."""

from __future__ import annotations

import time

import click


@click.command("gps-simulate")
@click.option("--seconds", default=600.0, show_default=True, help="How long to run (wall-clock seconds).")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between fixes.")
@click.option("--speedup", default=1.0, show_default=True, help="Vehicles move this many times faster than life.")
@click.option("--no-wait", is_flag=True, help="Do not sleep between ticks (fill the trails at once).")
@click.option("--auto-steps", is_flag=True,
              help="Record on-scene / at-hospital / available when a vehicle reaches its goal (a geofence).")
def gps_simulate(seconds: float, interval: float, speedup: float, no_wait: bool, auto_steps: bool = False):
    """Simulate the vehicles' GPS terminals."""
    from yigongti.cli import _django

    _django()
    from .gps import run

    if interval <= 0 or seconds <= 0 or speedup <= 0:
        raise click.BadParameter("--seconds, --interval and --speedup must be positive")
    total = 0
    for n, result in enumerate(run(seconds=seconds, interval=interval, speedup=speedup,
                                   sleep=None if no_wait else time.sleep, auto_steps=auto_steps), 1):
        total += result.recorded
        for line in result.refused:
            click.echo(f"refused {line}", err=True)
        click.echo(f"tick {n}: {result.recorded} fixes" + (f", unknown devices {sorted(set(result.unknown))}"
                                                          if result.unknown else ""))
    click.echo(f"{total} fixes recorded")

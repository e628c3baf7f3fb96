"""Races between real database connections: each function runs in its own thread (its own connection), all
released at once by a barrier. Used by the PostgreSQL-only concurrency tests."""

from __future__ import annotations

import threading

from django.db import connections


def race(fns):
    """Run the functions at the same moment; each result, or the exception it raised, in order."""
    barrier = threading.Barrier(len(fns))
    results: list = [None] * len(fns)

    def run(i, fn):
        try:
            barrier.wait()
            results[i] = fn()
        except Exception as e:
            results[i] = e
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(fns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results

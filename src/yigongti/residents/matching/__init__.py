"""Resident master index (EMPI) matching engine: pure functions, no Django needed.

* ``link_table`` / ``cli.link_command`` — batch: records → ``record_id, person_id, match_score``.
* ``score_candidates`` — one query record against candidates, with Chinese reasons.
* ``synth`` — messy multi-source records with ground truth.
"""

from .link import Match, link_table, score_candidates

__all__ = ["Match", "link_table", "score_candidates"]

"""Scoped, audited reads of the 120 command center: calls (``calls``), the dispatcher's board (``board``) and
the caller lookup in the resident index (``lookup``)."""

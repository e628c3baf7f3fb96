"""Encounters with a hypertension (I10–I15) or type-2 diabetes (E11) diagnosis are NOT enrolled automatically:
the 规范 asks for a confirmed diagnosis and the doctor's decision, and a diagnosis code in a township outpatient
visit is often "to be ruled out". ``services.enrolment.candidates`` finds them from the encounters when the
candidates page (``chronic:candidates``) is opened, so there is nothing to capture at save time; ``register()``
is kept so that the app's MODULES list stays complete, and connects nothing."""

from __future__ import annotations


def register() -> None:
    """Nothing to connect (see the module docstring)."""

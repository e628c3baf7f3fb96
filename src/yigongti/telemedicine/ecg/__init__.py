"""Remote ECG (远程心电): reading the files electrocardiographs send (``read``: DICOM 12-lead waveform, HL7 aECG),
automatic measurements offered as assistance (``measure``), the simulator and writer the demo and tests use
(``simulate``, ``write``), and the use cases (``services``: receive a recording for an order).

Importing the package is cheap (no Django models, no numpy): ``receive_file`` and ``register`` load the
services on first use, so ``ecg.simulate`` and ``ecg.write`` work outside Django too."""

from __future__ import annotations

from typing import Any


def register() -> None:
    """Called by ``telemedicine.registry.ready``: the order page's ECG panel."""
    from .services import register as _register

    _register()


def receive_file(order_pk: Any, data: bytes, filename: str = "", *, actor: Any, device: int | None = None) -> Any:
    """See ``services.receive_file``: the recording of an ECG order from the device's file."""
    from .services import receive_file as _receive

    return _receive(order_pk, data, filename, actor=actor, device=device)

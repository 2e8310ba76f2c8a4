"""The device tier's own tests: on a GPU host, tierci must find the GPU nvidia-smi sees.

Here (no accelerator) `nox -s device` exits 8; `nox -s device -- --allow-no-device`
reports these tests skipped, with the reason.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tierci.device import detect_device

pytestmark = pytest.mark.device


def test_detection_names_the_gpu_nvidia_smi_lists() -> None:
    smi = shutil.which("nvidia-smi")
    assert smi is not None, "a device host must have nvidia-smi"
    listed = subprocess.run(
        [smi, "--query-gpu=name", "--format=csv,noheader"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    info = detect_device()
    assert info.present
    assert info.name == listed[0].strip()
    assert info.count == len(listed)
    assert info.driver
    assert info.cuda


def test_the_override_turns_detection_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIERCI_DEVICE", "none")
    info = detect_device()
    assert not info.present
    assert "TIERCI_DEVICE=none" in info.reason

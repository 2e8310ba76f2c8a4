"""Is there an accelerator here? NVIDIA GPUs, found by ``nvidia-smi``, else by torch.

``TIERCI_DEVICE`` overrides detection: ``none`` makes a GPU host behave as one without
(to rehearse the no-device path), ``auto`` (the default) detects. The result names the
device, its driver and CUDA version for the JUnit report; absence comes with a
one-line reason.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass

from tierci.errors import ConfigError, NoDeviceError

__all__ = ["DeviceInfo", "detect_device", "no_device_error"]

_CUDA_VERSION = re.compile(r"CUDA Version:\s*([\d.]+)")
_TIMEOUT_S = 30


@dataclass(frozen=True, kw_only=True)
class DeviceInfo:
    """What was found (``present``) or why nothing was (``reason``)."""

    present: bool
    name: str = ""
    driver: str = ""
    cuda: str = ""
    count: int = 0
    source: str = ""  # nvidia-smi | torch
    reason: str = ""

    def properties(self) -> dict[str, str]:
        """JUnit properties: what the device tier ran on."""
        if not self.present:
            return {"device": "none", "device_reason": self.reason}
        return {
            "device": self.name,
            "device_count": str(self.count),
            "device_driver": self.driver,
            "device_cuda": self.cuda,
            "device_source": self.source,
        }


def detect_device() -> DeviceInfo:
    override = os.environ.get("TIERCI_DEVICE", "auto").strip().lower()
    if override == "none":
        return DeviceInfo(present=False, reason="TIERCI_DEVICE=none (detection turned off)")
    if override != "auto":
        raise ConfigError(
            f"TIERCI_DEVICE={override!r} is not understood",
            fix="use TIERCI_DEVICE=auto (detect) or TIERCI_DEVICE=none (act as if absent)",
        )
    found = _from_nvidia_smi()
    if found.present:
        return found
    from_torch = _from_torch()
    if from_torch.present:
        return from_torch
    return DeviceInfo(present=False, reason=f"{found.reason}; {from_torch.reason}")


def _from_nvidia_smi() -> DeviceInfo:
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return DeviceInfo(present=False, reason="nvidia-smi not found")
    try:
        query = subprocess.run(
            [smi, "--query-gpu=name,driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            check=False,
            timeout=_TIMEOUT_S,
        )
        summary = subprocess.run(
            [smi], capture_output=True, text=True, check=False, timeout=_TIMEOUT_S
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return DeviceInfo(present=False, reason=f"nvidia-smi failed: {exc}")
    gpus = [line.split(",") for line in query.stdout.splitlines() if line.strip()]
    if query.returncode != 0 or not gpus:
        why = (query.stderr or query.stdout).strip().splitlines()
        return DeviceInfo(
            present=False,
            reason=f"nvidia-smi found no GPU ({why[0] if why else f'exit {query.returncode}'})",
        )
    cuda = _CUDA_VERSION.search(summary.stdout)
    return DeviceInfo(
        present=True,
        name=gpus[0][0].strip(),
        driver=gpus[0][1].strip() if len(gpus[0]) > 1 else "",
        cuda=cuda.group(1) if cuda else "",
        count=len(gpus),
        source="nvidia-smi",
    )


def _from_torch() -> DeviceInfo:
    try:
        import torch  # noqa: PLC0415 - optional: only where the device tier installs it
    except ImportError:
        return DeviceInfo(present=False, reason="torch not installed to ask")
    if not torch.cuda.is_available():
        return DeviceInfo(present=False, reason="torch.cuda.is_available() is False")
    return DeviceInfo(
        present=True,
        name=torch.cuda.get_device_name(0),
        cuda=str(torch.version.cuda or ""),
        count=torch.cuda.device_count(),
        source="torch",
    )


def no_device_error(info: DeviceInfo, tier: str) -> NoDeviceError:
    return NoDeviceError(
        f"tierci: tier {tier!r} needs a device and this host has none: {info.reason}",
        fix=f"run it on a GPU host, or pass --allow-no-device to record {tier!r} as skipped",
    )

"""The heavy tier's own tests: real torch (the CPU build), installed from the wheelhouse.

torch is imported inside the tests, never at module level: every tier collects this
module (the unit tier and the env sessions then deselect it) and only the default
heavy environment has torch. A missing torch fails here; it is never skipped.
"""

from __future__ import annotations

import importlib.metadata
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from types import ModuleType

pytestmark = pytest.mark.heavy


@pytest.fixture(scope="module")
def torch() -> ModuleType:
    import torch  # noqa: PLC0415 - only the heavy environment has it

    module: ModuleType = torch  # Any where torch is not installed (the lint env)
    return module


def test_the_locked_cpu_build_is_installed(torch: ModuleType) -> None:
    assert torch.__version__ == "2.13.0+cpu"
    assert importlib.metadata.version("torch") == "2.13.0+cpu"
    assert torch.version.cuda is None  # no CUDA build slipped in


def test_matmul_agrees_with_numpy(torch: ModuleType) -> None:
    # numpy is only in the heavy environment, not in the lint env that runs mypy.
    import numpy as np  # noqa: PLC0415 - only the heavy tier has it

    generator = torch.Generator().manual_seed(0)
    a = torch.randn(64, 32, generator=generator, dtype=torch.float64)
    b = torch.randn(32, 16, generator=generator, dtype=torch.float64)
    np.testing.assert_allclose((a @ b).numpy(), a.numpy() @ b.numpy(), rtol=1e-12)


def test_autograd_fits_a_line(torch: ModuleType) -> None:
    generator = torch.Generator().manual_seed(1)
    x = torch.linspace(-1, 1, 200).unsqueeze(1)
    y = 3.0 * x - 0.5 + 0.01 * torch.randn(x.shape, generator=generator)
    model = torch.nn.Linear(1, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    for _ in range(200):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
    assert model.weight.item() == pytest.approx(3.0, abs=0.02)
    assert model.bias.item() == pytest.approx(-0.5, abs=0.02)


def test_numpy_round_trip_shares_memory(torch: ModuleType) -> None:
    array = torch.arange(6, dtype=torch.int32).reshape(2, 3).numpy()
    tensor = torch.from_numpy(array)
    tensor[0, 0] = 42
    assert array[0, 0] == 42

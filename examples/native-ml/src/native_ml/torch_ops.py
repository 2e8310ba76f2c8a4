"""Optional torch integration (``pip install native-ml[torch]``): batched dot products."""

from __future__ import annotations

import torch

from native_ml import dot


def batched_dot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Row-wise dot products of two (n, k) tensors, on whatever device they live."""
    if a.shape != b.shape or a.dim() != 2:  # noqa: PLR2004 - a matrix has two dimensions
        raise ValueError(f"batched_dot: need two equal (n, k) tensors, got {a.shape}, {b.shape}")
    return (a * b).sum(dim=1)


def reference(a: torch.Tensor, b: torch.Tensor) -> list[float]:
    """The same through the compiled core, row by row (for checking the tensor path)."""
    return [dot(x.tolist(), y.tolist()) for x, y in zip(a.cpu(), b.cpu(), strict=True)]

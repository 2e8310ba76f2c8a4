"""Device tier: the same kernels on a real CUDA device (run on GPU hosts only)."""

import pytest

pytestmark = pytest.mark.device


def test_batched_dot_on_cuda_matches_the_compiled_core():
    import torch

    from native_ml.torch_ops import batched_dot, reference

    assert torch.cuda.is_available(), "the device tier runs where CUDA is"
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(256, 512, generator=generator, dtype=torch.float64)
    b = torch.randn(256, 512, generator=generator, dtype=torch.float64)
    on_device = batched_dot(a.cuda(), b.cuda())
    assert on_device.device.type == "cuda"
    assert on_device.cpu().tolist() == pytest.approx(reference(a, b), rel=1e-9)

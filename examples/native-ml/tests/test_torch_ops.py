import pytest

pytestmark = pytest.mark.heavy


def test_batched_dot_matches_the_compiled_core():
    import torch

    from native_ml.torch_ops import batched_dot, reference

    generator = torch.Generator().manual_seed(0)
    a = torch.randn(16, 64, generator=generator, dtype=torch.float64)
    b = torch.randn(16, 64, generator=generator, dtype=torch.float64)
    assert batched_dot(a, b).tolist() == pytest.approx(reference(a, b), rel=1e-12)


def test_batched_dot_refuses_mismatched_shapes():
    import torch

    from native_ml.torch_ops import batched_dot

    with pytest.raises(ValueError, match="equal"):
        batched_dot(torch.ones(2, 3), torch.ones(3, 2))

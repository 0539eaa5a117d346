"""The meta device as a stand-in GPU, for machines that have none (issue #25).

Meta tensors have shapes and dtypes but no data, and meta refuses to mix devices as CUDA
does: a full CPU tensor added to a meta one raises "Tensor on device cpu is not on the
expected device meta!", while a 0-dim CPU tensor is allowed, as on CUDA. A run on
torch.device("meta") therefore fails wherever the engine would fail on a GPU for putting a
tensor on the wrong device. What meta cannot do is answer a question about data, so
FakeAccelerator answers the engine's sync points with made-up values, and it refuses the
one thing meta allows but Apple's MPS does not: float64.
"""

from __future__ import annotations

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

aten = torch.ops.aten
NO_FLOAT64 = (torch.float64, torch.complex128)  # MPS has neither


class FakeAccelerator(TorchDispatchMode):
    """While active, meta tensors behave like tensors on a GPU whose every number is
    plausible but meaningless:

    - a scalar read (float(loss), bool(torch.isfinite(...)), .item()) gives 1.0, True or 1:
      the healthy answer to the engine's questions (finite? positive?), so a check the
      engine makes of its tensors must ask for the healthy case to pass here. Every loss
      reads the same, so the engine's watch (engine/progress_watch.py) sees no progress: it
      restarts the optimizer after 4 steps and stops the run after 10; keep runs shorter;
    - a copy to the CPU (.cpu(), .tolist(), previews) gives zeros of the right shape;
    - aten.equal (torch.cov asks it), which meta cannot run, says True: it reads data too;
    - any op that takes or makes a float64 meta tensor raises: it would fail on MPS.
    """

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        tensors = _tensors((args, kwargs))
        _forbid_float64(func, tensors)
        on_meta = any(tensor.is_meta for tensor in tensors)
        if func is aten._local_scalar_dense.default and on_meta:
            dtype = args[0].dtype
            return True if dtype == torch.bool else 1.0 if dtype.is_floating_point else 1
        if func is aten.equal.default and on_meta:
            return True
        if func is aten._to_copy.default and args[0].is_meta and _on_cpu(kwargs.get("device")):
            dtype = kwargs.get("dtype") or args[0].dtype
            return torch.zeros(args[0].shape, dtype=dtype)
        if func is aten.copy_.default and args[1].is_meta and not args[0].is_meta:
            return args[0].zero_()
        result = func(*args, **kwargs)
        _forbid_float64(func, _tensors(result))
        return result


def _tensors(tree) -> list[torch.Tensor]:
    return [leaf for leaf in tree_leaves(tree) if isinstance(leaf, torch.Tensor)]


def _on_cpu(device) -> bool:
    return device is not None and torch.device(device).type == "cpu"


def _forbid_float64(func, tensors: list[torch.Tensor]) -> None:
    for tensor in tensors:
        if tensor.is_meta and tensor.dtype in NO_FLOAT64:
            raise AssertionError(f"{func} has a {tensor.dtype} tensor on the accelerator; "
                                 "Apple's MPS has no 64-bit floats")  # fmt: skip

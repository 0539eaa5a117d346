"""Long runs: nothing accumulates from step to step (graphs, previews, reports).

Resident memory is too coarse for this: at a small size it wanders by tens of kB a step
with no leak at all, so it took 2000 steps to see anything. The C heap's bytes in use
(glibc's mallinfo2, where tensors and numpy arrays live) and Python's count of allocated
blocks (where small objects live) are exact: with no leak they stay flat to within
about 100 bytes and a dozen blocks over 50 steps, so a hundred steps show a leak of even
one small preview per step.
"""

import ctypes
import ctypes.util
import gc
import sys

import pytest

from engine.run import StyleTransfer
from engine.settings import RunSettings
from tests.conftest import RANDOM_NET_STYLE_WEIGHT
from tests.engine.helpers import painting, photo

SIZE = 32
STEPS = 120
READ_AT = (20, 70, 120)  # after a warm-up, then two stretches of 50 steps each
# A leak of one 32 px preview a step (3 kB, the smallest thing a step makes) is well above
# this; so is one report a step (about ten blocks).
MAX_HEAP_BYTES_PER_STEP = 1024
MAX_BLOCKS_PER_STEP = 1


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks",
                "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]  # fmt: skip


def _mallinfo2():
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    function = getattr(libc, "mallinfo2", None)  # glibc 2.33 and later
    if function is not None:
        function.restype = _MallInfo2
    return function


mallinfo2 = _mallinfo2() if sys.platform.startswith("linux") else None


def heap_bytes_in_use() -> int:
    info = mallinfo2()
    return info.uordblks + info.hblkhd  # heap chunks in use + chunks mapped on their own


@pytest.mark.skipif(mallinfo2 is None, reason="needs glibc's mallinfo2")
def test_memory_stays_flat_step_after_step(random_network):
    # Adam with the averaged iterate: the path that keeps the most state between steps.
    settings = RunSettings(size=SIZE, steps=STEPS, optimizer="adam", average=True,
                           style_weight=RANDOM_NET_STYLE_WEIGHT, device="cpu")  # fmt: skip
    run = StyleTransfer(photo(SIZE, SIZE), [painting(SIZE, SIZE)], settings, random_network)
    readings = []
    while not run.done:
        report = run.step()
        run.preview(max_side=SIZE)  # as the window does, every step
        if report.iteration in READ_AT:
            gc.collect()
            readings.append((heap_bytes_in_use(), sys.getallocatedblocks()))
    # A leak grows in both stretches; a one-off (a cache filled once) in one only.
    (heap_0, blocks_0), (heap_1, blocks_1), (heap_2, blocks_2) = readings
    steps = READ_AT[1] - READ_AT[0]
    heap = min(heap_1 - heap_0, heap_2 - heap_1) / steps
    blocks = min(blocks_1 - blocks_0, blocks_2 - blocks_1) / steps
    assert heap < MAX_HEAP_BYTES_PER_STEP, f"the heap grew {heap:.0f} bytes a step"
    assert blocks < MAX_BLOCKS_PER_STEP, f"Python kept {blocks:.1f} more blocks a step"

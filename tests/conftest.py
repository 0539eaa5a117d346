"""Shared test setup: no real screen, no real user folders, one random VGG per session."""

import os

# Before anything imports Qt: draw offscreen, and never touch the user's own folders.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Before anything imports Ray (which reads it then): a Ray cluster the tests start runs in
# single-machine mode, every process on 127.0.0.1 (tests/engine/test_cluster.py).
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")

import pytest
import torch

from engine.run import Network
from engine.vgg import random_state_dict

# Tests use tiny images, which gain nothing from more threads; one thread also keeps a
# GUI test's worker from fighting the Qt thread for the cores (measured on 2 busy cores:
# a 24 px step took 0.21 s with one thread and 0.76 s with two).
torch.set_num_threads(1)

# Other CPUs run other convolution kernels (oneDNN picks them per CPU), so L-BFGS takes
# another path there: no test may lean on this machine's rounding. IMPASTO_TEST_KERNELS
# runs the suite on other kernels here, a comma list of:
#   threads=N   N torch threads instead of 1 (oneDNN splits its sums otherwise)
#   onednn=off  ATen's own convolutions, not oneDNN's
#   nchw        no channels-last layout on the CPU (other oneDNN kernels)
#   fp32        "auto" precision runs fp32 even where the CPU has bfloat16 units
# dev.py runs the trained tests a second time with some of them on.
KERNEL_VARIATIONS = ("threads", "onednn", "nchw", "fp32")


def apply_kernel_variations(text: str) -> list[str]:
    """Force the variations named in `text`; returns them, for the report header."""
    import engine.run
    import engine.vgg

    applied = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, value = item.partition("=")
        if name == "threads":
            torch.set_num_threads(int(value))
        elif item == "onednn=off":
            torch.backends.mkldnn.enabled = False
        elif item == "nchw":
            engine.vgg.CPU_CHANNELS_LAST = False
        elif item == "fp32":
            engine.run.has_bfloat16 = lambda device: False
        else:
            raise pytest.UsageError(f"IMPASTO_TEST_KERNELS: unknown variation {item!r}; "
                                    f"known: {', '.join(KERNEL_VARIATIONS)}")  # fmt: skip
        applied.append(item)
    return applied


KERNELS = apply_kernel_variations(os.environ.get("IMPASTO_TEST_KERNELS", ""))


def pytest_report_header(config) -> str:
    from engine.run import has_bfloat16  # as the runs see it (fp32 turns it off)

    bfloat16 = has_bfloat16(torch.device("cpu"))
    return (f"kernels: {', '.join(KERNELS) or 'default'}; torch threads "
            f"{torch.get_num_threads()}; CPU bfloat16 units: {bfloat16}")

# A random network moves images toward a style's colours and fine texture, but its
# activations are far weaker than ImageNet VGG's: it needs this much larger style weight.
RANDOM_NET_STYLE_WEIGHT = 50.0


@pytest.fixture(autouse=True)
def private_folders(tmp_path_factory, monkeypatch):
    base = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("IMPASTO_MODELS_DIR", str(base / "models"))
    monkeypatch.setenv("IMPASTO_CONFIG_DIR", str(base / "config"))
    monkeypatch.setenv("IMPASTO_DATA_DIR", str(base / "data"))


@pytest.fixture(scope="session")
def random_network() -> Network:
    return Network(random_state_dict("vgg19", seed=0), "vgg19", "torchvision")


@pytest.fixture(scope="session")
def random_weights_file(tmp_path_factory, random_network) -> str:
    path = tmp_path_factory.mktemp("weights") / "random_vgg19.pth"
    torch.save(random_network.state_dict, path)
    return str(path)

"""Choosing where the optimisation runs."""

from __future__ import annotations

import os

import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def pick_device(choice: str = "auto") -> torch.device:
    """auto: CUDA, then Apple MPS, then the CPU. A forced device that is missing is an error."""
    if choice not in DEVICE_CHOICES:
        raise ValueError(f"unknown device {choice!r}; choose one of {', '.join(DEVICE_CHOICES)}")
    if choice in ("auto", "cuda") and torch.cuda.is_available():
        return torch.device("cuda")
    if choice in ("auto", "mps") and _mps_available():
        return torch.device("mps")
    if choice in ("cuda", "mps"):
        raise ValueError(f"device {choice} is not available on this computer")
    return torch.device("cpu")


def absent_devices() -> dict[str, str]:
    """The device choices this computer lacks, each with why, in a few words."""
    absent = {}
    if not torch.cuda.is_available():
        built = torch.version.cuda is not None
        absent["cuda"] = ("no NVIDIA GPU or driver found" if built
                          else "this PyTorch has no CUDA support")  # fmt: skip
    if not _mps_available():
        absent["mps"] = "Apple silicon Macs only"
    return absent


def configure_threads(leave_one_for_gui: bool = True) -> int:
    """Set torch's CPU thread count and return it: every core, less one for the GUI's own
    thread on machines with 4 or more. On 2 cores the GUI stays smooth with both in use
    (bench/README.md: event-loop stall p99 about 6 ms at 512 px), so sparing one would
    only give up half the compute."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cores = cores or 1
    threads = cores - 1 if leave_one_for_gui and cores >= 4 else cores
    torch.set_num_threads(threads)
    return threads


def describe_device(device: torch.device) -> str:
    """A short human name: 'CPU (8 threads)', 'NVIDIA GeForce RTX 4090', 'Apple GPU (MPS)'."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "mps":
        return "Apple GPU (MPS)"
    return f"CPU ({torch.get_num_threads()} threads)"


def describe_precision(device: torch.device, precision: str | None = None) -> str:
    """In the window's words (its Precision choices): with `precision`, what a run really
    uses, 'precision: Faster (mixed)' or 'precision: Full'; without, what the default
    "auto" will pick there, which follows the device's bfloat16 units."""
    if precision is None:
        return "Faster precision available" if has_bfloat16(device) else "Full precision only"
    return "precision: Faster (mixed)" if precision == "mixed" else "precision: Full"


def has_bfloat16(device: torch.device) -> bool:
    """Whether mixed precision pays on `device`: CUDA with bfloat16 (Ampere and newer), or
    a CPU with bfloat16 units (AVX-512-BF16, AMX). Other CPUs emulate it about 100 times
    slower than fp32 (bench/README.md), so "mixed" falls back to fp32 there. MPS is left
    out: its bfloat16 needs macOS 14 and is untested."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        try:  # the check torch's own compiler uses; private, so guarded
            return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
        except (AttributeError, RuntimeError):
            return False
    return False


def is_out_of_memory(error: BaseException) -> bool:
    """True for the out-of-memory errors of every backend."""
    if isinstance(error, torch.OutOfMemoryError | MemoryError):
        return True
    return isinstance(error, RuntimeError) and "out of memory" in str(error).lower()


def release_memory(device: torch.device) -> None:
    """Give cached GPU memory back so Impasto holds none while it is not running."""
    if device.type == "cuda":
        torch.cuda.empty_cache()
    elif device.type == "mps":
        torch.mps.empty_cache()


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())

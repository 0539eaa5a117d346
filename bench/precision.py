"""fp32 against mixed precision (issue 6), and how close a step comes to the compute
bound: a script, not a test.

    .venv/bin/python bench/precision.py                         # CPU, 256 px
    .venv/bin/python bench/precision.py --device cuda --sizes 512,2048 \\
        --peak-tflops fp32=67,mixed=989 --cudnn-benchmark       # e.g. an H100 SXM

For each size and precision, in one process, interleaved:
- median seconds per step (the device synchronised; the first two steps are warm-up);
- peak memory: GPU memory allocated on CUDA, this process's RSS high-water mark on the CPU
  (cumulative over the runs, so read the largest);
- achieved TFLOP/s from the analytic cost of a step: the 3x3 convolutions of VGG19 up to
  relu5_1 forward, and their input gradients backward (the weights are frozen, so no weight
  gradients): 2 x forward. With --peak-tflops, its ratio to the device's peak;
- quality: the common evaluator's loss (bench/common_eval.py) after --quality-steps at the
  first size, mixed relative to fp32 (the issue asks for within 2 %).
On the shared random VGG19 (Caffe preprocessing), tubingen.jpg and starry_night.jpg,
content weight 1, style weight 100, as run_bench.py.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import engine.run as run_module  # noqa: E402
from bench.common_eval import CommonEvaluator  # noqa: E402
from bench.make_weights import CONTENT, STYLE, WEIGHTS, shared_network  # noqa: E402
from engine.images import load_image, save_image  # noqa: E402
from engine.run import Network, StyleTransfer  # noqa: E402
from engine.settings import PRECISIONS, RunSettings  # noqa: E402

# VGG19 up to conv5_1: (input channels, output channels, poolings before it).
CONVS = ((3, 64, 0), (64, 64, 0), (64, 128, 1), (128, 128, 1), (128, 256, 2), *[(256, 256, 2)] * 3,
         (256, 512, 3), *[(512, 512, 3)] * 3, (512, 512, 4))  # fmt: skip


def step_tflop(width: int, height: int) -> float:
    """TFLOP of one step: forward 3x3 convolutions (2 FLOP per multiply-add) and as much
    again for the gradient with respect to their inputs."""
    forward = sum(
        2 * c_in * c_out * 9 * (width >> pools) * (height >> pools) for c_in, c_out, pools in CONVS
    )
    return 2 * forward / 1e12


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--sizes", default="256")
    p.add_argument("--steps", type=int, default=8, help="timed steps per size and precision")
    p.add_argument("--precisions", default=",".join(PRECISIONS))
    p.add_argument("--no-quality", action="store_true", help="skip the quality comparison")
    p.add_argument("--optimizer", default="lbfgs")
    p.add_argument("--quality-steps", type=int, default=60)
    p.add_argument("--quality-size", type=int, help="default: the first of --sizes")
    p.add_argument(
        "--force-mixed",
        action="store_true",
        help="run mixed even where the engine would fall back (CPUs without bf16)",
    )
    p.add_argument("--peak-tflops", default="", help="e.g. fp32=67,mixed=989")
    p.add_argument("--cudnn-benchmark", action="store_true", help="CUDA: let cuDNN autotune")
    p.add_argument("--tf32", action="store_true", help="CUDA: TF32 tensor cores for fp32")
    p.add_argument("--output", type=Path, default=ROOT / "bench/results/precision.json")
    args = p.parse_args()
    if args.force_mixed:
        run_module.has_bfloat16 = lambda device: True
    torch.backends.cudnn.benchmark = args.cudnn_benchmark
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = args.tf32
    peaks = dict(item.split("=") for item in args.peak_tflops.split(",") if item)

    network = shared_network()
    inputs = (load_image(CONTENT), [load_image(STYLE)])
    device = torch.device(args.device)
    base = RunSettings(content_weight=1.0, style_weight=100.0, tv_weight=0.0,
                       optimizer=args.optimizer)  # fmt: skip

    results = {"device": describe(device), "torch": torch.__version__,
               "threads": torch.get_num_threads(), "cudnn_benchmark": args.cudnn_benchmark,
               "tf32": args.tf32, "optimizer": args.optimizer,
               "gemm_tflops": gemm_tflops(device), "speed": []}  # fmt: skip
    print(json.dumps({"gemm_tflops": results["gemm_tflops"]}), flush=True)
    for size in (int(s) for s in args.sizes.split(",")):
        for precision in args.precisions.split(","):
            settings = base.replace(size=size, steps=args.steps + 2, precision=precision)
            row = time_steps(inputs, settings, network, device)
            tflops = step_tflop(*row["image"]) / row["s_per_step"]
            row |= {"size": size, "precision": precision, "tflop_per_step": round(
                step_tflop(*row["image"]), 4), "achieved_tflops": round(tflops, 3)}  # fmt: skip
            row["fraction_of_gemm"] = round(tflops / results["gemm_tflops"], 3)
            if precision in peaks:
                row["fraction_of_peak"] = round(tflops / float(peaks[precision]), 3)
            print(json.dumps(row), flush=True)
            results["speed"].append(row)

    if args.no_quality:
        args.output.write_text(json.dumps(results, indent=2))
        return
    size = args.quality_size or int(args.sizes.split(",")[0])
    evaluate = CommonEvaluator(WEIGHTS, CONTENT, STYLE, 1.0, 100.0)
    quality = {}
    for precision in PRECISIONS:
        settings = base.replace(size=size, steps=args.quality_steps, precision=precision)
        run = StyleTransfer(*inputs, settings, network, device)
        while not run.done:
            run.step()
        with tempfile.TemporaryDirectory() as folder:
            quality[precision] = evaluate(save_image(run.result(), Path(folder) / "r.png"))["total"]
        run.close()
    ratio = round(quality["mixed"] / quality["fp32"], 4)
    results["quality"] = {"size": size, "steps": args.quality_steps, **quality,
                          "mixed_over_fp32": ratio}  # fmt: skip
    print(json.dumps(results["quality"]))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2))


def time_steps(
    inputs, settings: RunSettings, network: Network, device: torch.device, compiled: bool = False
) -> dict:
    """Time a run's steps: the median after two warm-up steps, and the first on its own
    (with `compiled`, the network goes through torch.compile, which happens then)."""
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    run = StyleTransfer(*inputs, settings, network, device)
    if compiled:
        run.net = torch.compile(run.net)
    times = []
    while not run.done:
        started = time.perf_counter()
        run.step()  # reads the losses back: the device is synchronised at the end
        times.append(time.perf_counter() - started)
    row = {"s_per_step": round(statistics.median(times[2:]), 4), "first_step_s": round(times[0], 2),
           "image": tuple(run.image.shape[-1:-3:-1]), "effective": run.precision}  # fmt: skip
    if device.type == "cuda":
        row["peak_gpu_mb"] = round(torch.cuda.max_memory_allocated(device) / 2**20)
    else:
        row["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    run.close()
    return row


def gemm_tflops(device: torch.device, n: int = 4096) -> float:
    """Median TFLOP/s of an n x n fp32 matrix product on `device`."""
    a, b = (torch.randn(n, n, device=device) for _ in range(2))
    rates = []
    for _ in range(7):
        started = time.perf_counter()
        (a @ b).sum().item()  # .item() waits for the device
        rates.append(2 * n**3 / (time.perf_counter() - started) / 1e12)
    return round(statistics.median(rates[2:]), 4)


def describe(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"CPU, {torch.get_num_threads()} threads"


if __name__ == "__main__":
    main()

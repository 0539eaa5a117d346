"""GPU benchmark (issue 25): seconds per step, peak memory and time to a finished picture
at 512, 1024 and 2048 px, in fp32, TF32 and bf16, with cuDNN autotuning off and on.

    python3 bench/gpu.py --weights bench/images/vgg16-half.pth --images bench/images
    .venv/bin/python bench/gpu.py --quick     # CPU smoke run: 64 and 96 px, under a minute

For each size, mode and cuDNN benchmark setting, one run of --warmup + --steps L-BFGS
steps (settle off, so none stops early):
- s/step: the median of the steps after the warm-up, the device synchronised before the
  clock is read; the first step on its own (cuDNN autotunes there);
- peak memory: torch.cuda.max_memory_allocated since the run began on CUDA; on the CPU this
  process's RSS high-water mark, which only grows, so it is cumulative over the rows;
- achieved TFLOP/s from the analytic cost of a step (`step_tflop`).
Modes: "fp32" with TF32 off everywhere (torch's own default leaves cuDNN's TF32 on), "tf32"
with it on for matrix products and convolutions (CUDA only), "bf16" the engine's "mixed"
precision (the network in bfloat16 under autocast; Gram matrices and losses in fp32, TF32
off). A mode the device cannot run is recorded as skipped, with why; an out-of-memory at a
size is recorded and the benchmark goes on.

Then, per size, one full run at the engine's defaults (RunSettings(): it ends when the
picture settles, at most --finish-steps steps) in that size's fastest mode: the steps it
took and its seconds from building the run (the targets) to its last step.

Images: --content and --style, looked up in --images (default bench/images, which a caller
fills, e.g. from ../shared/images), else generated test images. Weights: --weights, a
trained VGG16 .pth (Caffe preprocessing; tests/trained_vgg.py makes one), else a random
VGG19: its step times and memory are real, its time to a finished picture is not.
Writes --out (default bench/results/gpu-<device>.json) and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import gc
import json
import re
import resource
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.device import has_bfloat16, is_out_of_memory, pick_device  # noqa: E402
from engine.images import load_image  # noqa: E402
from engine.run import Network, RunStalled, StyleTransfer  # noqa: E402
from engine.settings import RunSettings  # noqa: E402
from engine.vgg import random_state_dict, read_state_dict  # noqa: E402
from tests.engine.helpers import painting, photo  # noqa: E402

MODES = ("fp32", "tf32", "bf16")
PRECISION = {"fp32": "fp32", "tf32": "fp32", "bf16": "mixed"}
FULL = {"sizes": "512,1024,2048", "steps": 5, "warmup": 2, "finish_steps": 100}
# --quick: enough to show every part works on 2 CPU cores, not figures to compare.
QUICK = {"sizes": "64,96", "steps": 3, "warmup": 1, "finish_steps": 5}
RANDOM_NOTE = ("random weights: step times and memory are real; time to a finished picture "
               "is only meaningful on trained weights (--weights)")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="CI size: " + json.dumps(QUICK))
    p.add_argument("--sizes", help=f"longest sides, default {FULL['sizes']}")
    p.add_argument("--steps", type=int, help=f"timed steps per row, default {FULL['steps']}")
    p.add_argument("--warmup", type=int, help=f"untimed steps first, default {FULL['warmup']}")
    p.add_argument("--finish-steps", type=int,
                   help=f"the finished run's ceiling, default {FULL['finish_steps']}")  # fmt: skip
    p.add_argument("--modes", default=",".join(MODES))
    p.add_argument("--device", default="auto")
    p.add_argument("--images", type=Path, default=ROOT / "bench" / "images")
    p.add_argument("--content", default="tubingen.jpg")
    p.add_argument("--style", default="starry_night.jpg")
    p.add_argument("--weights", type=Path, help="trained VGG .pth; default: a random VGG19")
    p.add_argument("--model", default="vgg16", help="the architecture of --weights")
    p.add_argument("--preprocessing", default="caffe", help="the preprocessing of --weights")
    p.add_argument("--out", type=Path, help="default: bench/results/gpu-<device>.json")
    args = p.parse_args(argv)
    for name, value in (QUICK if args.quick else FULL).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    unknown = set(args.modes.split(",")) - set(MODES)
    if unknown:
        p.error(f"unknown mode {', '.join(sorted(unknown))}; choose from {', '.join(MODES)}")

    started = time.perf_counter()
    device = pick_device(args.device)
    network, network_note = load_network(args)
    (content, content_note), (style, style_note) = (
        find_image(args.images, args.content, photo(1024, 768)),
        find_image(args.images, args.style, painting(1024, 1024)),
    )
    benchmarks = (False, True) if device.type == "cuda" else (False,)
    results = {
        **describe(device),
        "network": network_note,
        "images": {"content": content_note, "style": style_note},
        "sizes": [int(s) for s in args.sizes.split(",")],
        "modes": args.modes.split(","),
        "cudnn_benchmark": list(benchmarks),
        "steps": args.steps,
        "warmup": args.warmup,
        "finish_steps": args.finish_steps,
        "speed": [],
        "finished": [],
    }
    for size in results["sizes"]:
        for mode in results["modes"]:
            for benchmark in benchmarks:
                row = {"size": size, "mode": mode, "cudnn_benchmark": benchmark}
                reason = skip_reason(mode, device)
                if reason:
                    row |= {"status": "skipped", "reason": reason}
                else:
                    row |= time_steps((content, [style]), network, device, size, mode,
                                      benchmark, args.steps, args.warmup)  # fmt: skip
                print(json.dumps(row), file=sys.stderr, flush=True)
                results["speed"].append(row)
        timed = [r for r in results["speed"] if r["size"] == size and r["status"] == "ok"]
        if timed:
            best = min(timed, key=lambda r: r["s_per_step"])
            row = finish((content, [style]), network, device, size, best["mode"],
                         best["cudnn_benchmark"], args.finish_steps)  # fmt: skip
            print(json.dumps(row), file=sys.stderr, flush=True)
            results["finished"].append(row)
    results["wall_s"] = round(time.perf_counter() - started, 1)

    out = args.out or ROOT / "bench" / "results" / f"gpu-{slug(results['device'], device)}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    print(f"\nWritten: {out}", file=sys.stderr)


def load_network(args) -> tuple[Network, dict]:
    """The network to time, and what it is for the JSON."""
    if args.weights:
        state = read_state_dict(args.weights, args.model)
        network = Network(state, args.model, args.preprocessing)
        return network, {"weights": str(args.weights), "arch": network.arch,
                         "preprocessing": network.preprocessing}  # fmt: skip
    network = Network(random_state_dict("vgg19", seed=0), "vgg19", "caffe")
    return network, {"weights": "random (seed 0)", "arch": network.arch,
                     "preprocessing": network.preprocessing, "note": RANDOM_NOTE}  # fmt: skip


def find_image(folder: Path, name: str, generated):
    """The image `name` (a path, or a file in `folder`), else `generated`; and which it was."""
    for path in (Path(name), folder / name):
        if path.is_file():
            return load_image(path), str(path)
    return generated, f"generated ({name} not found in {folder})"


def skip_reason(mode: str, device: torch.device) -> str | None:
    if mode == "tf32" and device.type != "cuda":
        return "TF32 is CUDA only"
    if mode == "bf16" and not has_bfloat16(device):
        return f"no fast bfloat16 on this {device.type.upper()} (the engine would run fp32)"
    return None


def configure(mode: str, benchmark: bool, device: torch.device) -> None:
    """The global switches a mode needs; they stay set until the next row sets them."""
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = mode == "tf32"
        torch.backends.cudnn.benchmark = benchmark


def time_steps(inputs, network: Network, device: torch.device, size: int, mode: str,
               benchmark: bool, steps: int, warmup: int) -> dict:  # fmt: skip
    """One row: s/step after the warm-up, the first step, peak memory, TFLOP/s."""
    configure(mode, benchmark, device)
    settings = RunSettings(model=network.arch, size=size, steps=warmup + steps, settle=0.0,
                           precision=PRECISION[mode])  # fmt: skip
    clear_memory(device)
    run = None
    try:
        run = StyleTransfer(*inputs, settings, network, device)
        times = []
        while not run.done:
            synchronize(device)
            begun = time.perf_counter()
            run.step()
            synchronize(device)
            times.append(time.perf_counter() - begun)
        width, height = run.image.shape[-1], run.image.shape[-2]
        tflop = step_tflop(run.net, width, height)
        per_step = statistics.median(times[warmup:])
        return {"status": "ok", "image": [width, height], "s_per_step": round(per_step, 5),
                "first_step_s": round(times[0], 3), "tflop_per_step": round(tflop, 4),
                "achieved_tflops": round(tflop / per_step, 3), "precision": run.precision,
                **peak_memory(device)}  # fmt: skip
    except Exception as error:
        if not is_out_of_memory(error):
            raise
        return {"status": "out of memory", "reason": str(error).splitlines()[0][:200]}
    finally:
        if run is not None:
            run.close()
        clear_memory(device)


def finish(inputs, network: Network, device: torch.device, size: int, mode: str,
           benchmark: bool, ceiling: int) -> dict:  # fmt: skip
    """A run at the engine's defaults to its end: it settles, or reaches `ceiling` steps."""
    configure(mode, benchmark, device)
    settings = RunSettings(model=network.arch, size=size, precision=PRECISION[mode])
    settings = settings.replace(steps=min(settings.steps, ceiling))
    row = {"size": size, "mode": mode, "cudnn_benchmark": benchmark,
           "ceiling": settings.steps}  # fmt: skip
    clear_memory(device)
    run = None
    try:
        synchronize(device)
        begun = time.perf_counter()
        run = StyleTransfer(*inputs, settings, network, device)
        synchronize(device)
        row["setup_s"] = round(time.perf_counter() - begun, 3)
        report = None
        while not run.done:
            report = run.step()
        synchronize(device)
        row |= {
            "status": "ok",
            "steps": run.iteration,
            "settled": report.settled,
            "seconds": round(time.perf_counter() - begun, 2),
            **peak_memory(device),
        }
    except RunStalled as error:
        row |= {"status": "stalled", "steps": run.iteration, "reason": str(error)}
    except Exception as error:
        if not is_out_of_memory(error):
            raise
        row |= {"status": "out of memory", "reason": str(error).splitlines()[0][:200]}
    finally:
        if run is not None:
            run.close()
        clear_memory(device)
    return row


def step_tflop(net: nn.Module, width: int, height: int) -> float:
    """TFLOP of one step on `net` (the engine's VGGFeatures, cut after its deepest layer):
    each convolution forward (2 FLOP a multiply-add), and as much again backward for its
    input gradient (the weights are frozen: no weight gradients). bench/precision.py's
    step_tflop counts the same for VGG19 alone; this reads the layers, so VGG16 too."""
    forward = 0
    for name, module in net.net.named_children():  # conv1_1, relu1_1, ..., pool1, ...
        if isinstance(module, nn.Conv2d):
            k = module.kernel_size[0] * module.kernel_size[1]
            forward += 2 * module.in_channels * module.out_channels * k * width * height
        elif name.startswith("pool"):  # max or average, 2x2, stride 2, rounding down
            width, height = width // 2, height // 2
    return 2 * forward / 1e12


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def clear_memory(device: torch.device) -> None:
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)


def peak_memory(device: torch.device) -> dict:
    if device.type == "cuda":
        return {"peak_mb": round(torch.cuda.max_memory_allocated(device) / 2**20),
                "peak_kind": "GPU memory allocated"}  # fmt: skip
    # ru_maxrss is in KiB on Linux.
    return {"peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "peak_kind": "process RSS high-water mark (cumulative)"}  # fmt: skip


def describe(device: torch.device) -> dict:
    cuda = device.type == "cuda"
    return {
        "device": torch.cuda.get_device_name(device) if cuda else "CPU",
        "device_type": device.type,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if cuda else None,
        # What the engine runs with when nothing sets them (read before any row does).
        "torch_defaults": {
            "matmul_tf32": torch.backends.cuda.matmul.allow_tf32,
            "cudnn_tf32": torch.backends.cudnn.allow_tf32,
            "cudnn_benchmark": torch.backends.cudnn.benchmark,
        },
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }


def slug(name: str, device: torch.device) -> str:
    """'NVIDIA H200' -> 'nvidia-h200'; every CPU is 'cpu'."""
    return "cpu" if device.type == "cpu" else re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def table(results: dict) -> str:
    """The figures as Markdown, ready for bench/README.md."""
    lines = [f"{results['device']}, torch {results['torch']}, CUDA {results['cuda']}, cuDNN "
             f"{results['cudnn']}, {results['threads']} CPU threads, {results['date']}; "
             f"{results['network']['weights']} {results['network']['arch']}; median of "
             f"{results['steps']} steps after {results['warmup']} warm-up", "",
             "| size | image | mode | cuDNN benchmark | s/step | first step s | TFLOP/s "
             "| peak MB |", "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in results["speed"]:
        head = f"| {r['size']} | {'×'.join(map(str, r.get('image', ()))) or '–'} | {r['mode']} "
        head += f"| {'on' if r['cudnn_benchmark'] else 'off'} "
        if r["status"] != "ok":
            lines.append(head + f"| {r['status']}: {r.get('reason', '')} | | | |")
            continue
        lines.append(head + f"| {r['s_per_step']:.4g} | {r['first_step_s']:.3g} "
                     f"| {r['achieved_tflops']:.3g} | {r['peak_mb']} |")  # fmt: skip
    lines += ["", "Finished picture (engine defaults, stops when settled, at most "
              f"{results['finish_steps']} steps; fastest mode of each size):", "",
              "| size | mode | cuDNN benchmark | steps | settled | setup s | seconds | peak MB |",
              "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in results["finished"]:
        head = f"| {r['size']} | {r['mode']} | {'on' if r['cudnn_benchmark'] else 'off'} "
        if r["status"] != "ok":
            lines.append(head + f"| {r['status']}: {r.get('reason', '')} | | | | |")
            continue
        lines.append(head + f"| {r['steps']} | {'yes' if r['settled'] else 'no'} "
                     f"| {r['setup_s']:.3g} | {r['seconds']:.3g} | {r['peak_mb']} |")  # fmt: skip
    if "note" in results["network"]:
        lines += ["", f"Note: {results['network']['note']}."]
    return "\n".join(lines)


if __name__ == "__main__":
    main()

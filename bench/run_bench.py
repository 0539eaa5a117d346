"""Impasto against neural-style and pystiche: one command, a table, bench/results/latest.json.

    .venv/bin/python bench/run_bench.py            # the full set (long: tens of minutes)
    .venv/bin/python bench/run_bench.py --quick    # a few minutes, for a smoke check

Every tool runs as its own process, one at a time, interleaved per repeat so that load from
other work on the machine hits all tools alike. Peers run from .bench-venv (see README.md).
All share one random VGG19 file, the same images, size, layers, loss weights, optimizer
and Caffe preprocessing; see README.md for exactly what is matched.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from common_eval import CommonEvaluator  # noqa: E402
from make_weights import make_weights  # noqa: E402

MAIN_PY = ROOT / ".venv" / "bin" / "python"
BENCH_PY = ROOT / ".bench-venv" / "bin" / "python"
NEURAL_STYLE = ROOT / ".bench-venv" / "bin" / "neural-style"
IMAGES = ROOT.parent / "shared" / "images"
PEERS = ("neural-style", "pystiche")


def command(
    tool: str, size: int, optimizer: str, steps: int, save_every: int, out: Path, args
) -> list[str]:
    content, style = str(args.content), str(args.style)
    lr = 0.02  # Adam on [0, 1] pixels; neural-style works on 0-256 pixels, so 0.02 * 256
    common = [
        "--weights",
        str(args.weights),
        "--size",
        str(size),
        "--steps",
        str(steps),
        "--optimizer",
        optimizer,
        "--content-weight",
        str(args.content_weight),
        "--style-weight",
        str(args.style_weight),
        "--save-every",
        str(save_every),
        "--out",
        str(out),
    ]
    if tool.startswith("impasto"):
        extra = ["--device", args.device]
        if tool == "impasto-c2f":
            extra += ["--scales", f"{size // 2},{size}"]
        if optimizer == "adam":
            extra += ["--learning-rate", str(lr)]
        return [str(MAIN_PY), str(HERE / "impasto_runner.py"), content, style, *common, *extra]
    if tool == "pystiche":
        return [
            str(BENCH_PY),
            str(HERE / "pystiche_runner.py"),
            content,
            style,
            *common,
            "--learning-rate",
            str(lr),
        ]
    gpu = "0" if args.device == "cuda" else "c"
    return [
        str(NEURAL_STYLE),
        "-content_image",
        content,
        "-style_image",
        style,
        "-image_size",
        str(size),
        "-gpu",
        gpu,
        "-backend",
        "cudnn" if gpu == "0" else "nn",
        "-content_weight",
        str(args.content_weight),
        "-style_weight",
        str(args.style_weight),
        "-tv_weight",
        "0",
        "-num_iterations",
        str(steps),
        "-init",
        "image",
        "-optimizer",
        optimizer,
        "-learning_rate",
        str(lr * 256),
        "-print_iter",
        "1",
        "-save_iter",
        str(save_every),
        "-output_image",
        str(out),
        "-model_file",
        str(args.weights),
        "-disable_check",
        "-seed",
        "0",
    ]


def run_tool(
    tool: str, size: int, optimizer: str, steps: int, save_every: int, out: Path, args
) -> dict:
    """Run one tool; time its progress lines as they arrive. Times are from the launch."""
    cmd = command(tool, size, optimizer, steps, save_every, out, args)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    launched = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=ROOT
    )
    ready, step_times, images = None, {}, []
    for line in proc.stdout:
        now = time.perf_counter() - launched
        words = line.split()
        if not words:
            continue
        if words[0] == "READY" or line.startswith("Running optimization"):
            ready = now
        elif words[0] == "STEP" or words[0] == "Iteration":
            step = int(words[1])
            step_times[step] = now
            if tool == "neural-style" and (
                step == steps or (save_every and step % save_every == 0)
            ):
                name = out if step == steps else out.with_name(f"{out.stem}_{step}{out.suffix}")
                images.append((step, now, str(name)))
        elif words[0] == "IMAGE":
            images.append((int(words[1]), now, words[2]))
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise RuntimeError(f"{tool} failed ({status}): {' '.join(cmd)}")
    stamps = [step_times[i] for i in sorted(step_times) if i <= steps]
    # Intervals between progress lines; the first (warm-up) and last (final save) dropped.
    intervals = [b - a for a, b in zip(stamps, stamps[1:], strict=False)][1:-1] or [
        b - a for a, b in zip(stamps, stamps[1:], strict=False)
    ]
    return {
        "ready_s": ready,
        "first_step_s": stamps[0] if stamps else None,
        "step_intervals_s": intervals,
        "images": images,
        "peak_rss_mb": usage.ru_maxrss / 1024,  # this child's own peak (Linux: KiB)
    }


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def per_step(args, tools) -> dict:
    rows = {}
    for repeat in range(args.repeats):
        for size in args.sizes:
            for optimizer in args.optimizers:
                for tool in tools:
                    out = args.work / f"step_{tool}_{size}_{optimizer}_{repeat}.png"
                    print(f"  per-step {tool} {size}px {optimizer} #{repeat + 1}", flush=True)
                    result = run_tool(tool, size, optimizer, args.steps, 0, out, args)
                    row = rows.setdefault(
                        f"{size}/{optimizer}/{tool}", {"intervals": [], "rss": [], "first": []}
                    )
                    row["intervals"] += result["step_intervals_s"]
                    row["rss"].append(result["peak_rss_mb"])
                    row["first"].append(result["first_step_s"])
    return {
        key: {
            "s_per_step": median(r["intervals"]),
            "peak_rss_mb": median(r["rss"]),
            "launch_to_first_step_s": median(r["first"]),
            "n": len(r["intervals"]),
        }
        for key, r in rows.items()
    }


def time_to_quality(args, tools) -> dict:
    """Each tool runs the same number of steps, saving every few; the common evaluator
    scores every saved image. The threshold is the worst of the tools' final losses (a
    quality every tool reaches); a tool's time is when its first image met it, from launch."""
    evaluator = CommonEvaluator(
        args.weights, args.content, args.style, args.content_weight, args.style_weight
    )
    curves = {tool: [] for tool in tools}
    for repeat in range(args.quality_repeats):
        for tool in tools:
            out = args.work / f"quality_{tool}_{repeat}.png"
            print(f"  quality {tool} {args.quality_size}px #{repeat + 1}", flush=True)
            result = run_tool(
                tool, args.quality_size, "lbfgs", args.quality_steps, args.quality_every, out, args
            )
            curve = [(step, t, evaluator(path)["total"]) for step, t, path in result["images"]]
            curves[tool].append(curve)
    threshold = max(curve[-1][2] for runs in curves.values() for curve in runs)
    summary = {"threshold": threshold, "tools": {}}
    for tool, runs in curves.items():
        reached = [next(t for _, t, loss in curve if loss <= threshold) for curve in runs]
        summary["tools"][tool] = {
            "seconds_to_threshold": median(reached),
            "final_loss": median([curve[-1][2] for curve in runs]),
            "curves": runs,
        }
    return summary


def gui_figures(args) -> dict:
    cmd = [
        str(MAIN_PY),
        str(HERE / "gui_probe.py"),
        str(args.content),
        str(args.style),
        "--weights",
        str(args.weights),
        "--size",
        str(args.gui_size),
        "--steps",
        str(args.gui_steps),
        "--style-weight",
        str(args.style_weight),
    ]
    runs = []
    for repeat in range(args.repeats):
        print(f"  GUI probe {args.gui_size}px #{repeat + 1}", flush=True)
        done = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        )
        lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
        if not lines:
            return {"error": done.stderr[-500:]}
        runs.append(json.loads(lines[-1]))
    return {key: median([r[key] for r in runs]) for key in runs[0]}


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "load_average_at_start": os.getloadavg(),
        "device": None,
    }


def ratio(a, b):
    return None if a is None or not b else a / b


def print_table(data: dict) -> None:
    fmt = lambda v, spec=".2f": "-" if v is None else format(v, spec)  # noqa: E731
    print("\nFigure 1/4: seconds per step (median) and peak RSS, Impasto/peer ratios")
    steps = data["per_step"]
    for key in sorted(
        {k.rsplit("/", 1)[0] for k in steps}, key=lambda k: (int(k.split("/")[0]), k)
    ):
        imp = steps.get(f"{key}/impasto", {})
        mine, rss = imp.get("s_per_step"), imp.get("peak_rss_mb")
        parts = [f"{key:12s} impasto {fmt(mine)} s, {fmt(rss, '.0f')} MB"]
        for peer in PEERS:
            p = steps.get(f"{key}/{peer}")
            if p:
                time_ratio = fmt(ratio(mine, p["s_per_step"]))
                rss_ratio = fmt(ratio(rss, p["peak_rss_mb"]))
                parts.append(
                    f"{peer} {fmt(p['s_per_step'])} s (x{time_ratio}), "
                    f"{fmt(p['peak_rss_mb'], '.0f')} MB (x{rss_ratio})"
                )
        print("  " + " | ".join(parts))
    quality = data.get("quality")
    if quality:
        print(f"Figure 2: seconds from launch to common loss <= {quality['threshold']:.4g}")
        tools = quality["tools"]
        fastest_peer = min(
            (tools[p]["seconds_to_threshold"] for p in PEERS if p in tools), default=None
        )
        for tool, row in tools.items():
            seconds = row["seconds_to_threshold"]
            print(
                f"  {tool:12s} {fmt(seconds)} s (x{fmt(ratio(seconds, fastest_peer))} "
                f"of the faster peer), final loss {row['final_loss']:.4g}"
            )
    gui = data.get("gui")
    if gui:
        print(f"Figures 3/5 (GUI, {data['config']['gui_size']} px): {json.dumps(gui)}")


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--quick", action="store_true", help="256 px, few steps, one repeat")
    p.add_argument("--sizes", default="256,512,1024")
    p.add_argument("--optimizers", default="lbfgs,adam")
    p.add_argument("--steps", type=int, default=6, help="steps per per-step run")
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--quality-size", type=int, default=256)
    p.add_argument("--quality-steps", type=int, default=60)
    p.add_argument("--quality-every", type=int, default=5)
    p.add_argument("--quality-repeats", type=int, default=1)
    p.add_argument("--gui-size", type=int, default=512)
    p.add_argument("--gui-steps", type=int, default=5)
    p.add_argument("--skip", default="", help="comma list of: steps,quality,gui")
    p.add_argument("--tools", default="impasto,neural-style,pystiche")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    p.add_argument("--content", type=Path, default=IMAGES / "tubingen.jpg")
    p.add_argument("--style", type=Path, default=IMAGES / "starry_night.jpg")
    p.add_argument("--content-weight", type=float, default=1.0)
    p.add_argument("--style-weight", type=float, default=100.0, help="suits the random VGG19")
    p.add_argument("--work", type=Path, default=HERE / "results" / "work")
    p.add_argument("--output", type=Path, default=HERE / "results" / "latest.json")
    args = p.parse_args()
    if args.quick:
        args.sizes, args.steps, args.repeats = "256", 4, 1
        args.quality_size, args.quality_steps, args.quality_every = 128, 20, 5
        args.gui_size, args.gui_steps = 256, 3
    args.sizes = [int(s) for s in args.sizes.split(",")]
    args.optimizers = args.optimizers.split(",")
    args.work.mkdir(parents=True, exist_ok=True)
    args.weights = make_weights(args.work / "vgg19_random_seed0.pth")
    tools = args.tools.split(",")
    skip = set(args.skip.split(","))
    data = {
        "machine": machine(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
    }
    if "steps" not in skip:
        data["per_step"] = per_step(args, tools)
    if "quality" not in skip:
        data["quality"] = time_to_quality(
            args, [*tools, "impasto-c2f"] if "impasto" in tools else tools
        )
    if "gui" not in skip and "impasto" in tools:
        data["gui"] = gui_figures(args)
    data["machine"]["load_average_at_end"] = os.getloadavg()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(data, indent=1))
    print_table(data)
    print(f"\nwrote {args.output}")


if __name__ == "__main__":
    main()

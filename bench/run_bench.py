"""Impasto against neural-style and pystiche: one command, a table, bench/results/latest.json.

    .venv/bin/python bench/run_bench.py            # the full set (long: tens of minutes)
    .venv/bin/python bench/run_bench.py --quick    # a few minutes, for a smoke check

Every tool runs as its own process, one at a time, interleaved per repeat so that load from
other work on the machine hits all tools alike. Peers run from .bench-venv (see README.md).
All share one random VGG19 file, the same images, size, layers, loss weights, optimizer
and Caffe preprocessing; see README.md for exactly what is matched.

    .venv/bin/python bench/run_bench.py --network trained-vgg16 ...   # see README.md

--network trained-vgg16: the ImageNet VGG16 of tests/trained_vgg.py instead; Impasto and
neural-style each at their own default loss weights (Impasto: RunSettings' defaults;
neural-style: its published ones, passed explicitly), same size and L-BFGS iterations,
scored by bench/judge.py (a measure neither optimises); writes results/trained-latest.json,
a markdown table and results/montage-trained.png.
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
from judge import Judge  # noqa: E402
from make_weights import make_weights  # noqa: E402

MAIN_PY = ROOT / ".venv" / "bin" / "python"
BENCH_PY = ROOT / ".bench-venv" / "bin" / "python"
NEURAL_STYLE = ROOT / ".bench-venv" / "bin" / "neural-style"
IMAGES = ROOT.parent / "shared" / "images"
PEERS = ("neural-style", "pystiche")
# neural-style's own defaults (neural_style.py's argparse), passed explicitly in trained mode.
NEURAL_STYLE_DEFAULTS = {"content_weight": 5.0, "style_weight": 100.0, "tv_weight": 1e-3}


def impasto_defaults() -> dict[str, float]:
    """The engine's default loss weights, read from RunSettings (the runner uses the same)."""
    from engine.settings import RunSettings

    defaults = RunSettings()
    return {k: getattr(defaults, k) for k in ("content_weight", "style_weight", "tv_weight")}


def command(
    tool: str, size: int, optimizer: str, steps: int, save_every: int, out: Path, args
) -> list[str]:
    content, style = str(args.content), str(args.style)
    lr = 0.02  # Adam on [0, 1] pixels; neural-style works on 0-256 pixels, so 0.02 * 256
    trained = args.network == "trained-vgg16"
    common = [
        "--weights",
        str(args.weights),
        "--size",
        str(size),
        "--steps",
        str(steps),
        "--optimizer",
        optimizer,
        "--save-every",
        str(save_every),
        "--out",
        str(out),
    ]
    weights = ["--content-weight", str(args.content_weight),
               "--style-weight", str(args.style_weight)]  # fmt: skip
    if tool.startswith("impasto"):
        extra = ["--device", args.device]
        # Trained mode: the engine's own defaults (content, style and TV), vgg16 + caffe.
        extra += ["--engine-weights", "--arch", "vgg16"] if trained else weights
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
            *weights,
            "--learning-rate",
            str(lr),
        ]
    ns = NEURAL_STYLE_DEFAULTS if trained else {
        "content_weight": args.content_weight, "style_weight": args.style_weight, "tv_weight": 0
    }  # fmt: skip
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
        str(ns["content_weight"]),
        "-style_weight",
        str(ns["style_weight"]),
        "-tv_weight",
        str(ns["tv_weight"]),
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
        "-disable_check",  # the files hold no classifier tensors
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
    ready, step_times, images, architecture = None, {}, [], None
    for line in proc.stdout:
        now = time.perf_counter() - launched
        words = line.split()
        if not words:
            continue
        if "Architecture Detected" in line:  # neural-style picks it from the file's name
            architecture = words[0]
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
    expected = "VGG-16" if args.network == "trained-vgg16" else "VGG-19"
    if tool == "neural-style" and architecture != expected:
        raise RuntimeError(f"neural-style built {architecture}, not {expected}: {cmd}")
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
    trained = args.network == "trained-vgg16"
    if trained:
        evaluator = Judge(args.weights, args.content, args.style)
        score = "J"
    else:
        evaluator = CommonEvaluator(
            args.weights, args.content, args.style, args.content_weight, args.style_weight
        )
        score = "total"
    curves = {tool: [] for tool in tools}
    parts = {tool: [] for tool in tools}  # trained mode: final style and content
    for repeat in range(args.quality_repeats):
        for tool in tools:
            out = args.work / f"quality_{tool}_{repeat}.png"
            print(f"  quality {tool} {args.quality_size}px #{repeat + 1}", flush=True)
            result = run_tool(
                tool, args.quality_size, "lbfgs", args.quality_steps, args.quality_every, out, args
            )
            scores = [(step, t, path, evaluator(path)) for step, t, path in result["images"]]
            curves[tool].append([(step, t, row[score]) for step, t, _, row in scores])
            if trained:
                final = scores[-1][3]
                parts[tool].append({"style": final["style"], "content": final["content"],
                                    "path": scores[-1][2]})  # fmt: skip
    threshold = max(curve[-1][2] for runs in curves.values() for curve in runs)
    summary = {"threshold": threshold, "score": score, "tools": {}}
    for tool, runs in curves.items():
        reached = [next(t for _, t, loss in curve if loss <= threshold) for curve in runs]
        steps = [next(i for i, _, loss in curve if loss <= threshold) for curve in runs]
        summary["tools"][tool] = {
            "seconds_to_threshold": median(reached),
            "steps_to_threshold": median(steps),
            "final_loss": median([curve[-1][2] for curve in runs]),
            "curves": runs,
        }
        if trained:
            summary["tools"][tool]["final_style"] = median([r["style"] for r in parts[tool]])
            summary["tools"][tool]["final_content"] = median([r["content"] for r in parts[tool]])
            summary["tools"][tool]["final_images"] = [r["path"] for r in parts[tool]]
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
    ]
    if args.network == "trained-vgg16":
        cmd += ["--arch", "vgg16"]  # and the engine's own loss weights
    else:
        cmd += ["--style-weight", str(args.style_weight)]
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


def montage(args, quality: dict, path: Path) -> Path:
    """content | style | Impasto | neural-style, the runs' final images (equal iterations),
    each tile scaled to the results' height, a small label under each."""
    from PIL import Image, ImageDraw

    tools = quality["tools"]
    results = [(f"{tool}, {args.quality_steps} L-BFGS steps", tools[tool]["final_images"][0])
               for tool in ("impasto", "neural-style") if tool in tools]  # fmt: skip
    height = Image.open(results[0][1]).height if results else args.quality_size
    tiles = [("content", args.content), ("style", args.style), *results]
    images = []
    for label, file in tiles:
        image = Image.open(file).convert("RGB")
        width = max(1, round(image.width * height / image.height))
        images.append((label, image.resize((width, height), Image.Resampling.LANCZOS)))
    gap, strip = 4, 16
    sheet = Image.new(
        "RGB",
        (sum(im.width for _, im in images) + gap * (len(images) - 1), height + strip),
        "white",
    )
    draw, x = ImageDraw.Draw(sheet), 0
    for label, image in images:
        sheet.paste(image, (x, 0))
        draw.text((x + 2, height + 2), label, fill="black")
        x += image.width + gap
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path)
    return path


def print_trained_table(data: dict) -> None:
    """The trained-VGG16 figures as a markdown table (Impasto / neural-style ratios)."""
    fmt = lambda v, spec=".2f": "-" if v is None else format(v, spec)  # noqa: E731
    rows = ["| Figure | Impasto | neural-style | Impasto/neural-style |", "|---|---|---|---|"]
    steps = data.get("per_step", {})
    for key in sorted({k.rsplit("/", 1)[0] for k in steps}, key=lambda k: int(k.split("/")[0])):
        size, optimizer = key.split("/")
        mine = steps.get(f"{key}/impasto", {})
        peer = steps.get(f"{key}/neural-style", {})
        a, b = mine.get("s_per_step"), peer.get("s_per_step")
        n = f"n={mine.get('n', 0)}/{peer.get('n', 0)}"
        rows.append(f"| (a) s/step {size} px {optimizer} (median, {n}) | {fmt(a)} | {fmt(b)} "
                    f"| **{fmt(ratio(a, b))}** |")  # fmt: skip
        a, b = mine.get("peak_rss_mb"), peer.get("peak_rss_mb")
        rows.append(f"| peak RSS {size} px (MB) | {fmt(a, '.0f')} | {fmt(b, '.0f')} "
                    f"| {fmt(ratio(a, b))} |")  # fmt: skip
    quality = data.get("quality")
    if quality:
        tools, size = quality["tools"], data["config"]["quality_size"]
        imp, ns = tools.get("impasto", {}), tools.get("neural-style", {})
        get = lambda row, key: row.get(key)  # noqa: E731
        a, b = get(imp, "seconds_to_threshold"), get(ns, "seconds_to_threshold")
        rows.append(
            f"| (b) s from launch to judge J ≤ {quality['threshold']:.4f} ({size} px; "
            f"steps: {fmt(get(imp, 'steps_to_threshold'), 'g')} / "
            f"{fmt(get(ns, 'steps_to_threshold'), 'g')}) | {fmt(a, '.1f')} | {fmt(b, '.1f')} "
            f"| **{fmt(ratio(a, b))}** |"
        )
        steps_n = data["config"]["quality_steps"]
        for key, label in (("final_loss", "J"), ("final_style", "style (SWD ratio)"),
                           ("final_content", "content (1 − SSIM)")):  # fmt: skip
            a, b = get(imp, key), get(ns, key)
            rows.append(f"| (c) final {label}, {steps_n} steps | {fmt(a, '.4f')} "
                        f"| {fmt(b, '.4f')} | {fmt(ratio(a, b))} |")  # fmt: skip
    if quality and quality["threshold"] >= 1.0:
        rows.append(
            "\nNote: the threshold is ≥ 1, the unchanged photo's J, so (b) is met without "
            "painting anything: read (c) instead."
        )
    print("\n".join(rows))


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
    p.add_argument(
        "--network",
        default="random-vgg19",
        choices=("random-vgg19", "trained-vgg16"),
        help="trained-vgg16: tests/trained_vgg.py's ImageNet VGG16, each tool's own default "
        "loss weights, judged by bench/judge.py",
    )
    p.add_argument("--tools", help="default: impasto,neural-style,pystiche "
                   "(trained-vgg16: impasto,neural-style)")  # fmt: skip
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    p.add_argument("--content", type=Path, default=IMAGES / "tubingen.jpg")
    p.add_argument("--style", type=Path, default=IMAGES / "starry_night.jpg")
    p.add_argument("--content-weight", type=float, default=1.0)
    p.add_argument("--style-weight", type=float, default=100.0, help="suits the random VGG19")
    p.add_argument(
        "--work", type=Path, help="default: results/work (trained: results/work/trained)"
    )
    p.add_argument("--output", type=Path, help="default: results/latest.json "
                   "(trained: results/trained-latest.json)")  # fmt: skip
    p.add_argument("--montage", type=Path, default=HERE / "results" / "montage-trained.png")
    args = p.parse_args()
    trained = args.network == "trained-vgg16"
    results = HERE / "results"
    args.tools = args.tools or ("impasto,neural-style" if trained else
                                "impasto,neural-style,pystiche")  # fmt: skip
    args.work = args.work or (results / "work" / "trained" if trained else results / "work")
    args.output = args.output or results / ("trained-latest.json" if trained else "latest.json")
    if args.quick:
        args.sizes, args.steps, args.repeats = "256", 4, 1
        args.quality_size, args.quality_steps, args.quality_every = 128, 20, 5
        args.gui_size, args.gui_steps = 256, 3
    args.sizes = [int(s) for s in args.sizes.split(",")]
    args.optimizers = args.optimizers.split(",")
    args.work.mkdir(parents=True, exist_ok=True)
    tools = args.tools.split(",")
    skip = set(args.skip.split(","))
    if trained:
        sys.path.insert(0, str(ROOT))
        from tests.trained_vgg import trained_vgg16_path

        if "pystiche" in tools:
            p.error("pystiche's runner reads VGG19 only; use --tools impasto,neural-style")
        args.weights = trained_vgg16_path()
    else:
        args.weights = make_weights(args.work / "vgg19_random_seed0.pth")
    data = {
        "machine": machine(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
    }
    if trained:
        data["config"]["loss_weights"] = {
            "impasto": impasto_defaults(),
            "neural-style": NEURAL_STYLE_DEFAULTS,
        }
        data["config"]["judge"] = "bench/judge.py: J = SWD style ratio + (1 - SSIM) content"
    if "steps" not in skip:
        data["per_step"] = per_step(args, tools)
    if "quality" not in skip:
        with_c2f = "impasto" in tools and not trained and "impasto-c2f" not in tools
        data["quality"] = time_to_quality(args, [*tools, "impasto-c2f"] if with_c2f else tools)
        if trained:
            data["montage"] = str(montage(args, data["quality"], args.montage))
    if "gui" not in skip and "impasto" in tools:
        data["gui"] = gui_figures(args)
    data["machine"]["load_average_at_end"] = os.getloadavg()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(data, indent=1))
    if trained:
        print_trained_table(data)
    else:
        print_table(data)
    print(f"\nwrote {args.output}" + (f" and {data['montage']}" if "montage" in data else ""))


if __name__ == "__main__":
    main()

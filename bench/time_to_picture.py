"""Time to picture: how soon each tool has a finished painting, on the trained VGG16.

    .venv/bin/python bench/time_to_picture.py                      # 384 px, 4 pairs (long)
    .venv/bin/python bench/time_to_picture.py --size 256 --pairs tubingen:starry_night \\
        --ns-iterations 300                                        # a smaller look

Per pair, in one run and one after the other (never at the same time): Impasto at its own
defaults (RunSettings() at --size: the window's and the CLI's run), then neural-style at its
published defaults (1000 L-BFGS iterations, content 5, style 100, TV 1e-3; init from the
photo, as in run_bench.py). Each saves its picture every few steps; afterwards
bench/judge.py scores every saved picture (J = style + content, lower is better; neither tool
optimises it), each upscaled to the final size first (what the canvas shows).

neural-style's 1000 iterations are slow on a CPU. --ns-iterations N runs only N of them
and --ns-curve FILE.json gives its judge scores per iteration from a longer run (a curve
does not depend on the machine's load: L-BFGS with a seed is deterministic); its times are
then its per-iteration time measured here, times the iterations (start-up measured here).
The JSON says which figures were measured and which estimated so.

Figures per pair (ratios against neural-style measured in the same run):
- first clearly stylised frame: seconds after the model is loaded to the first picture whose
  judge style score is ≤ FIRST_STYLE (the photo scores 1, the painting about 0.2);
- finish: seconds from launch to Impasto's last step, and its final J; neural-style's time to
  its 1000th iteration and its final J;
- time to a common quality: seconds from launch to the first picture with J ≤ neural-style's
  final J (the quality both reach), for each tool;
- a montage: content | style | Impasto final | neural-style at Impasto's finishing time |
  neural-style final.
Writes bench/results/time-to-picture-<size>.json and .png.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

IMAGES = ROOT.parent / "shared" / "images"
NEURAL_STYLE = ROOT / ".bench-venv" / "bin" / "neural-style"
PAIRS = ("tubingen:starry_night", "golden_gate:the_scream", "shipwreck:woman-with-hat-matisse",
         "tubingen:the_scream")  # fmt: skip
# Judge style score of a "clearly stylised" frame: the first 128 px frame that showed Van
# Gogh's swirls and palette plainly (step 10 of the default run, upscaled) scored 0.70.
FIRST_STYLE = 0.75
EVERY_STEP = 10  # Impasto's first steps are all saved and judged


def child(args) -> None:
    """One Impasto run (its own process): LOADED, READY, STEP i scale, IMAGE i path, DONE."""
    sys.path.insert(0, str(ROOT))
    import torch

    from engine.images import load_image
    from engine.run import Network, StyleTransfer
    from engine.settings import RunSettings, with_size
    from engine.vgg import read_state_dict

    # From the parent's launch of this process (wall clock, the one both processes share),
    # so Python's and torch's imports count, as they do in neural-style's times.
    launched = args.launched
    settings = with_size(RunSettings(model="vgg16", device="cpu"), args.size)
    changes = json.loads(args.settings or "{}")
    if "scales" in changes:
        changes["scales"] = tuple(changes["scales"])
    settings = settings.replace(**changes)
    network = Network(read_state_dict(args.weights, "vgg16"), "vgg16", "caffe")
    content, style = load_image(args.content), load_image(args.style)
    say = lambda *words: print(f"{time.time() - launched:.3f}", *words, flush=True)  # noqa: E731
    say("LOADED", settings.to_json().replace("\n", " "))
    run = StyleTransfer(content, [style], settings, network, torch.device("cpu"))
    say("READY")
    out = Path(args.out)
    scale = 0
    while not run.done:
        report = run.step()
        i = report.iteration
        say("STEP", i, report.scale_index, report.losses["total"])
        # Every one of the first EVERY_STEP steps (when the picture changes most, and when a
        # common quality is reached), then every --save-every.
        if (args.save_every and i % args.save_every == 0) or run.done or i <= EVERY_STEP \
                or report.settled or report.scale_index != scale:  # fmt: skip
            scale = report.scale_index
            path = out.with_name(f"{out.stem}_{i:05d}.png")
            run.result().save(path)
            say("IMAGE", i, path)
    say("DONE", run.iteration)


def run_child(command: list[str]) -> list[list[str]]:
    proc = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode:
        raise RuntimeError(f"failed: {' '.join(command)}\n{proc.stderr[-2000:]}")
    return [line.split(" ", 2) for line in proc.stdout.splitlines() if line.strip()]


def impasto(args, content: Path, style: Path, folder: Path, settings: str = "") -> dict:
    out = folder / "impasto.png"
    command = [sys.executable, __file__, "--child", "--content", str(content), "--style",
               str(style), "--size", str(args.size), "--weights", str(args.weights),
               "--save-every", str(args.save_every), "--out", str(out)]  # fmt: skip
    if settings:
        command += ["--settings", settings]
    launched = time.perf_counter()
    lines = run_child([*command, "--launched", repr(time.time())])
    wall = time.perf_counter() - launched
    events = {"images": [], "steps": []}
    for seconds, kind, *rest in lines:
        seconds, words = float(seconds), ["", "", *(rest[0].split() if rest else [])]
        if kind == "LOADED":
            events["loaded_s"], events["settings"] = seconds, json.loads(rest[0])
        elif kind == "READY":
            events["ready_s"] = seconds
        elif kind == "STEP":
            events["steps"].append((int(words[2]), seconds))
        elif kind == "IMAGE":
            events["images"].append((int(words[2]), seconds, words[3]))
        elif kind == "DONE":
            events["done_s"], events["iterations"] = seconds, int(words[2])
    events["wall_s"] = wall
    return events


def neural_style(args, content: Path, style: Path, folder: Path, iterations: int) -> dict:
    out = folder / "ns.png"
    command = [str(NEURAL_STYLE), "-content_image", str(content), "-style_image", str(style),
               "-image_size", str(args.size), "-gpu", "c", "-backend", "nn",
               "-content_weight", "5", "-style_weight", "100", "-tv_weight", "1e-3",
               "-num_iterations", str(iterations), "-init", "image", "-optimizer", "lbfgs",
               "-print_iter", "1", "-save_iter", str(args.ns_every), "-output_image", str(out),
               "-model_file", str(args.weights), "-disable_check", "-seed", "0"]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    launched = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True, env=env, cwd=folder)  # fmt: skip
    steps, images, ready, architecture = [], [], None, None
    for line in proc.stdout:
        now = time.perf_counter() - launched
        words = line.split()
        if "Architecture Detected" in line:
            architecture = words[0]
        if line.startswith("Running optimization"):
            ready = now
        elif words and words[0] == "Iteration":
            step = int(words[1])
            steps.append((step, now))
            if step == iterations or step % args.ns_every == 0:
                name = out if step == iterations else folder / f"ns_{step}.png"
                images.append((step, now, str(name)))
    if proc.wait() or architecture != "VGG-16":
        raise RuntimeError(f"neural-style failed or built {architecture}: {' '.join(command)}")
    intervals = [b - a for (_, a), (_, b) in zip(steps, steps[1:], strict=False)][1:]
    return {"ready_s": ready, "steps": steps, "images": images,
            "s_per_iteration": statistics.median(intervals), "wall_s": now}  # fmt: skip


def judged(judge, images: list, size: tuple[int, int]) -> list[dict]:
    import torch.nn.functional as F
    from common_eval import load_rgb

    rows = []
    for step, seconds, path in images:
        image = load_rgb(path)
        if (image.shape[-1], image.shape[-2]) != size:  # a coarse scale, as the canvas shows it
            image = F.interpolate(image, size=(size[1], size[0]), mode="bicubic",
                                  align_corners=False).clamp(0, 1)  # fmt: skip
        score = judge.score_tensor(image)
        rows.append({"step": step, "s": seconds, "path": path,
                     **{k: score[k] for k in ("J", "style", "content")}})  # fmt: skip
    return rows


def first(rows: list[dict], key: str, bound: float) -> dict | None:
    return next((r for r in rows if r[key] <= bound), None)


def machine_load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--launched", type=float, help=argparse.SUPPRESS)  # the child's start
    p.add_argument("--content", type=Path)
    p.add_argument("--style", type=Path)
    p.add_argument("--out", default="")
    p.add_argument("--size", type=int, default=384)
    p.add_argument("--weights", type=Path)
    p.add_argument("--settings", default="", help="JSON changes to Impasto's defaults (levers)")
    p.add_argument("--save-every", type=int, default=5)
    p.add_argument("--pairs", default=",".join(PAIRS), help="content:style names in "
                   "../shared/images, comma-separated")  # fmt: skip
    p.add_argument("--ns-iterations", type=int, default=1000)
    p.add_argument("--ns-every", type=int, default=25)
    p.add_argument("--ns-curve", type=Path, help="judge scores of a longer neural-style run "
                   "(this script's JSON); --ns-iterations then only times it")  # fmt: skip
    p.add_argument(
        "--lever",
        action="append",
        default=[],
        metavar="NAME=JSON",
        help="also run Impasto with these changes to its defaults, after the "
        'defaults, e.g. \'one-size={"coarse_to_fine": false, "steps": 300}\'',
    )
    p.add_argument("--skip-ns", action="store_true")
    p.add_argument("--output", type=Path)
    args = p.parse_args()
    if args.weights is None:
        from judge import default_weights

        args.weights = default_weights()
    if args.child:
        child(args)
        return
    print(json.dumps(measure(args), indent=1))


def measure(args) -> dict:
    import tempfile

    from judge import Judge
    from PIL import Image

    output = args.output or HERE / "results" / f"time-to-picture-{args.size}.json"
    curve = json.loads(args.ns_curve.read_text()) if args.ns_curve else {}
    data = {"size": args.size, "started": time.strftime("%Y-%m-%d %H:%M:%S"), "pairs": {},
            "ns_iterations": args.ns_iterations, "settings": args.settings}  # fmt: skip
    work = Path(tempfile.mkdtemp(prefix="ttp-"))
    for pair in args.pairs.split(","):
        names = pair.split(":")
        content, style = (IMAGES / f"{n}.jpg" for n in names)
        folder = work / pair.replace(":", "-")
        folder.mkdir(parents=True)
        row = {"load_before": machine_load()}
        row["impasto"] = imp = impasto(args, content, style, folder, args.settings)
        for lever in args.lever:
            name, changes = lever.split("=", 1)
            lever_folder = folder / name
            lever_folder.mkdir()
            row.setdefault("levers", {})[name] = impasto(args, content, style, lever_folder,
                                                         changes)  # fmt: skip
        row["load_between"] = machine_load()
        if not args.skip_ns:
            row["neural-style"] = neural_style(args, content, style, folder, args.ns_iterations)
        row["load_after"] = machine_load()
        final = Image.open(imp["images"][-1][2]).size
        judge = Judge(args.weights, content, style)
        imp["scores"] = judged(judge, imp["images"], final)
        for lever in row.get("levers", {}).values():
            lever["scores"] = judged(judge, lever["images"], final)
            lever["first_stylised_s"] = _first_stylised(lever)
        if not args.skip_ns:
            ns = row["neural-style"]
            ns["scores"] = judged(judge, ns["images"], final)
            summarise(row, curve.get("pairs", {}).get(pair, {}).get("neural-style"))
        row["impasto"]["first_stylised_s"] = _first_stylised(imp)
        data["pairs"][pair] = row
        print(pair, json.dumps(row.get("summary", {})), flush=True)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(data, indent=1))
    if not args.skip_ns:
        montage(data, output.with_suffix(".png"))
    return {pair: row.get("summary", row["impasto"]["scores"][-1])
            for pair, row in data["pairs"].items()}  # fmt: skip


def _first_stylised(imp: dict) -> float | None:
    hit = first(imp["scores"], "style", FIRST_STYLE)
    return None if hit is None else hit["s"] - imp["loaded_s"]


def summarise(row: dict, long_curve: dict | None) -> None:
    """The pair's figures. With a long neural-style curve (iterations beyond this run's),
    neural-style's time at iteration k is its start-up here + k × its s/iteration here."""
    imp, ns = row["impasto"], row["neural-style"]
    ns_scores = ns["scores"]
    estimated = False
    if long_curve and long_curve["scores"][-1]["step"] > ns_scores[-1]["step"]:
        # This run's own pictures (saved as often as --ns-every), then the long run's
        # later ones, timed by this run's start-up and seconds per iteration.
        estimated = True
        first_step = ns["steps"][0][1]  # launch to iteration 1, measured here
        ns_scores = ns_scores + [
            {**r, "s": first_step + (r["step"] - 1) * ns["s_per_iteration"]}
            for r in long_curve["scores"] if r["step"] > ns_scores[-1]["step"]
        ]  # fmt: skip
    ns_final = ns_scores[-1]
    imp_final = imp["scores"][-1]
    common = ns_final["J"]
    imp_hit, ns_hit = first(imp["scores"], "J", common), first(ns_scores, "J", common)
    at_finish = [r for r in ns_scores if r["s"] <= imp["done_s"]]
    row["summary"] = {
        "ns_estimated_from_rate": estimated,
        "ns_s_per_iteration": ns["s_per_iteration"],
        "impasto_finish_s": imp["done_s"],
        "impasto_steps": imp["iterations"],
        "ns_finish_s": ns_final["s"],
        "finish_ratio": imp["done_s"] / ns_final["s"],
        "impasto_J": imp_final["J"],
        "ns_J": ns_final["J"],
        "impasto_style": imp_final["style"],
        "ns_style": ns_final["style"],
        "impasto_content": imp_final["content"],
        "ns_content": ns_final["content"],
        "common_J": common,
        "impasto_to_common_s": imp_hit and imp_hit["s"],
        "ns_to_common_s": ns_hit and ns_hit["s"],
        "common_ratio": imp_hit and ns_hit and imp_hit["s"] / ns_hit["s"],
        # The same from each tool's "ready" (model loaded, targets made) instead of launch:
        # what is left once Python and torch are imported.
        "common_ratio_from_ready": imp_hit and ns_hit and (
            (imp_hit["s"] - imp["ready_s"]) / (ns_hit["s"] - ns["ready_s"])),
        "first_stylised_s": _first_stylised(imp),
        "ns_at_impasto_finish": at_finish[-1] if at_finish else None,
    }
    for lever in row.get("levers", {}).values():
        hit = first(lever["scores"], "J", common)
        lever["summary"] = {"finish_s": lever["done_s"], "steps": lever["iterations"],
                            "J": lever["scores"][-1]["J"], "to_common_s": hit and hit["s"],
                            "common_ratio": hit and ns_hit and hit["s"] / ns_hit["s"]}  # fmt: skip
    row["montage"] = [imp_final["path"], (at_finish[-1] if at_finish else ns_scores[0])["path"],
                      ns_final["path"]]  # fmt: skip


def montage(data: dict, path: Path) -> None:
    """One row per pair: content | style | Impasto final | neural-style at Impasto's finish
    time | neural-style final."""
    from PIL import Image, ImageDraw

    height, gap, strip, sheet_rows = 192, 4, 14, []
    for pair, row in data["pairs"].items():
        content, style = (IMAGES / f"{n}.jpg" for n in pair.split(":"))
        s = row["summary"]
        at = s["ns_at_impasto_finish"]
        labels = ["content", "style",
                  f"Impasto {s['impasto_finish_s']:.0f} s J {s['impasto_J']:.3f}",
                  f"neural-style at {at['s']:.0f} s, it {at['step']}" if at else "neural-style",
                  f"neural-style {s['ns_finish_s']:.0f} s J {s['ns_J']:.3f}"]  # fmt: skip
        files = [content, style, *row["montage"]]
        tiles = []
        for label, file in zip(labels, files, strict=True):
            image = Image.open(file).convert("RGB")
            width = max(1, round(image.width * height / image.height))
            tiles.append((label, image.resize((width, height), Image.Resampling.LANCZOS)))
        sheet_rows.append(tiles)
    width = max(sum(t.width for _, t in tiles) + gap * (len(tiles) - 1) for tiles in sheet_rows)
    sheet = Image.new("RGB", (width, len(sheet_rows) * (height + strip + gap)), "white")
    draw = ImageDraw.Draw(sheet)
    for r, tiles in enumerate(sheet_rows):
        x, y = 0, r * (height + strip + gap)
        for label, tile in tiles:
            sheet.paste(tile, (x, y))
            draw.text((x + 2, y + height + 1), label, fill="black")
            x += tile.width + gap
    sheet.save(path)


if __name__ == "__main__":
    main()

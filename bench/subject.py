"""Keeping the subject (issue 23): Impasto's variants against neural-style on pictures like
those artists paint, scored on each of the judge's axes separately, with a montage per pair.

    .venv/bin/python bench/subject.py --size 384 \\
        --variant 'old={"style_layer_weights": [1, 1, 1, 1, 1]}' --variant new={} --ns
    .venv/bin/python bench/subject.py --size 256 --pairs astronaut:woman-with-hat-matisse \\
        --variant 'no-relu5={"style_layer_weights": [1.25, 1.25, 1.25, 1.25, 0]}'

Per pair (PAIRS: a portrait, a pet, architecture, a landscape against three paintings), one
after the other on the trained VGG16 with Caffe preprocessing: each --variant is Impasto's
defaults (RunSettings() at --size, fp32) with the given changes, run until it settles or hits
its ceiling; --ns is neural-style at its published defaults (content 5, style 100, TV 1e-3,
from the photo), run for as many iterations as the longest variant took, saved every 10.
Each Impasto picture is judged against neural-style's at the same number of steps (rounded
up to its next save): both cost one network evaluation per step at equal size, so equal
steps is equal time (bench/README.md, "Time to picture").

Writes bench/results/subject-<size>/<pair>/<variant>.png, scores.json (every axis of
bench/judge.py) and montage-<pair>.png: photo | painting | each variant | neural-style, and
under it the same pictures cropped at 100 % around the face (or the centre).
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from common_eval import load_rgb  # noqa: E402
from judge import IMAGES, Judge, default_weights  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

NEURAL_STYLE = ROOT / ".bench-venv" / "bin" / "neural-style"
# photo, painting, the subject's box (left, top, right, bottom as fractions) or None. The
# boxes: the astronaut's eyes to chin, the cat's eyes and nose.
ASTRONAUT_FACE = (0.33, 0.12, 0.54, 0.35)
CAT_FACE = (0.27, 0.23, 0.80, 0.93)
PAIRS = {
    "astronaut:woman-with-hat-matisse": ASTRONAUT_FACE,
    "astronaut:the_scream": ASTRONAUT_FACE,
    "chelsea:starry_night": CAT_FACE,
    "chelsea:woman-with-hat-matisse": CAT_FACE,
    "tubingen:woman-with-hat-matisse": None,
    "golden_gate:the_scream": None,
}
AXES = ("style", "content", "edges", "face", "copies", "colour")
NS_EVERY = 10


def image_path(name: str) -> Path:
    return next(IMAGES.glob(f"{name}.*"))


def impasto(network, content: Path, style: Path, size: int, changes: dict, out: Path) -> dict:
    import torch

    from engine.images import load_image
    from engine.run import StyleTransfer
    from engine.settings import RunSettings, with_size

    changes = {k: tuple(v) if isinstance(v, list) else v for k, v in changes.items()}
    settings = with_size(RunSettings(model="vgg16", device="cpu", precision="fp32"), size)
    settings = settings.replace(**changes)
    run = StyleTransfer(load_image(content), [load_image(style)], settings, network,
                        torch.device("cpu"))  # fmt: skip
    started = time.perf_counter()
    while not run.done:
        report = run.step()
    run.result().save(out)
    return {"steps": report.iteration, "s": time.perf_counter() - started, "path": str(out),
            "losses": report.losses, "changes": {k: list(v) if isinstance(v, tuple) else v
                                                 for k, v in changes.items()}}  # fmt: skip


def neural_style(content: Path, style: Path, size: int, iterations: int, folder: Path,
                 weights: Path) -> dict:  # fmt: skip
    """neural-style's defaults (as bench/time_to_picture.py runs them), saved every NS_EVERY."""
    out = folder / "ns.png"
    command = [str(NEURAL_STYLE), "-content_image", str(content), "-style_image", str(style),
               "-image_size", str(size), "-gpu", "c", "-backend", "nn",
               "-content_weight", "5", "-style_weight", "100", "-tv_weight", "1e-3",
               "-num_iterations", str(iterations), "-init", "image", "-optimizer", "lbfgs",
               "-print_iter", "0", "-save_iter", str(NS_EVERY), "-output_image", str(out),
               "-model_file", str(weights), "-disable_check", "-seed", "0"]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(command, check=True, cwd=folder, stdout=subprocess.DEVNULL)
    saved = {step: folder / f"ns_{step}.png" for step in range(NS_EVERY, iterations, NS_EVERY)}
    saved[iterations] = out
    return {"s": time.perf_counter() - started, "saved": {k: str(v) for k, v in saved.items()}}


def ns_at(ns: dict, steps: int) -> str:
    """neural-style's picture at `steps`, rounded up to its next save."""
    saved = {int(k): v for k, v in ns["saved"].items()}
    return saved[min(k for k in saved if k >= steps)] if steps <= max(saved) else saved[max(saved)]


def layer_pull(network, size: int, pairs: list[str]) -> None:
    """neural-style's loss in Impasto's units: its 5·MSE(F) + 100·Σ MSE(G) is Impasto's
    relative terms weighted content 5·ms(F), layer l 100·ms(G_l); divided by the content's,
    the style layer weights Impasto would need (content 1) to pull as neural-style does,
    with each layer's relative error at the start (the photo)."""
    import torch

    from engine.images import load_image, resize_longest, to_tensor
    from engine.losses import gram_matrix, mean_square
    from engine.settings import STYLE_LAYERS
    from engine.vgg import VGGFeatures

    net = VGGFeatures(network.state_dict, ("relu4_2", *STYLE_LAYERS), arch="vgg16",
                      preprocessing="caffe")  # fmt: skip
    for pair in pairs:
        photo, painting = (to_tensor(resize_longest(load_image(image_path(n)), size))
                           for n in pair.split(":"))  # fmt: skip
        with torch.no_grad():
            mine, theirs = net(photo), net(painting)
        content_scale = float(mean_square(mine["relu4_2"]))
        cells = []
        for layer in STYLE_LAYERS:
            target = gram_matrix(theirs[layer])[0]
            error = (gram_matrix(mine[layer])[0] - target).pow(2).mean() / mean_square(target)
            weight = 100 * float(mean_square(target)) / (5 * content_scale)
            cells.append(f"{layer} {weight:.3g} (start {float(error):.2f})")
        print(f"{pair}: " + ", ".join(cells))


def table(output: Path) -> None:
    """A markdown row per pair and axis: old | new | neural-style at new's steps."""
    print("| pair | axis | old | new | neural-style |\n|---|---|---|---|---|")
    for scores_file in sorted(output.glob("*/scores.json")):
        data = json.loads(scores_file.read_text())
        if not {"old", "new"} <= set(data):
            continue
        old, new = data["old"], data["new"]
        steps = f"{old['steps']} / {new['steps']} / ≤{10 * math.ceil(new['steps'] / 10)}"
        print(f"| {scores_file.parent.name} | steps | {steps.replace(' / ', ' | ')} |")
        for axis in AXES:
            if axis in new["scores"]:
                ns = new.get("ns_scores", {}).get(axis, float("nan"))
                print(f"| | {axis} | {old['scores'][axis]:.3f} | {new['scores'][axis]:.3f} "
                      f"| {ns:.3f} |")  # fmt: skip


def fitted(path: str | Path, size: tuple[int, int]) -> Image.Image:
    image = Image.open(path).convert("RGB")
    return image if image.size == size else image.resize(size, Image.Resampling.LANCZOS)


def montage(tiles: list[tuple[str, str | Path]], size: tuple[int, int], face, out: Path) -> None:
    """A row of pictures and, under it, each cropped at 100 % around the face or centre."""
    width, height = size
    left, top, right, bottom = face or (0.3, 0.3, 0.7, 0.7)
    box = [round(left * width), round(top * height), round(right * width), round(bottom * height)]
    crop_h = box[3] - box[1]
    label_h = 16
    sheet = Image.new("RGB", (width * len(tiles), label_h + height + crop_h), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (label, path) in enumerate(tiles):
        image = fitted(path, size)
        sheet.paste(image, (i * width, label_h))
        sheet.paste(image.crop(box), (i * width, label_h + height))
        draw.text((i * width + 4, 2), label, fill="black")
    sheet.save(out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--size", type=int, default=384)
    p.add_argument("--pairs", default=",".join(PAIRS))
    p.add_argument("--variant", action="append", default=[], metavar="NAME=JSON",
                   help="Impasto's defaults with these changes ({} : the defaults)")  # fmt: skip
    p.add_argument("--ns", action="store_true", help="also run neural-style, at equal steps")
    p.add_argument("--output", type=Path, help="default: bench/results/subject-<size>")
    p.add_argument("--table", action="store_true", help="only print the old/new/neural-style "
                   "table from --output's scores")  # fmt: skip
    p.add_argument("--pull", action="store_true", help="only print neural-style's layer "
                   "weights in Impasto's units (layer_pull)")  # fmt: skip
    args = p.parse_args()
    output = args.output or HERE / "results" / f"subject-{args.size}"
    if args.table:
        table(output)
        return
    import torch

    from engine.run import Network
    from engine.vgg import read_state_dict

    torch.set_num_threads(2)
    weights = default_weights()
    network = Network(read_state_dict(weights, "vgg16"), "vgg16", "caffe")
    if args.pull:
        layer_pull(network, args.size, args.pairs.split(","))
        return
    for pair in args.pairs.split(","):
        photo_name, painting_name = pair.split(":")
        content, style = image_path(photo_name), image_path(painting_name)
        folder = output / pair.replace(":", "-")
        folder.mkdir(parents=True, exist_ok=True)
        scores_file = folder / "scores.json"
        data = json.loads(scores_file.read_text()) if scores_file.exists() else {}
        for variant in args.variant:
            name, changes = variant.split("=", 1)
            data[name] = impasto(network, content, style, args.size, json.loads(changes),
                                 folder / f"{name}.png")  # fmt: skip
            print(pair, name, data[name]["steps"], "steps", f"{data[name]['s']:.0f} s", flush=True)
        impasto_rows = {k: v for k, v in data.items() if k != "neural-style"}
        if args.ns:
            longest = max(row["steps"] for row in impasto_rows.values())
            iterations = NS_EVERY * math.ceil(longest / NS_EVERY)
            data["neural-style"] = neural_style(content, style, args.size, iterations, folder,
                                                weights)  # fmt: skip
        judge = Judge(weights, content, style, PAIRS.get(pair))
        size = Image.open(next(iter(impasto_rows.values()))["path"]).size
        with torch.no_grad():
            for row in impasto_rows.values():
                row["scores"] = judge.score_tensor(load_rgb(row["path"], size=size))
                if "neural-style" in data:
                    row["ns_path"] = ns_at(data["neural-style"], row["steps"])
                    row["ns_scores"] = judge.score_tensor(load_rgb(row["ns_path"], size=size))
        scores_file.write_text(json.dumps(data, indent=1))
        for name, row in impasto_rows.items():
            line = "  ".join(f"{axis} {row['scores'][axis]:.3f}" + (
                f"/{row['ns_scores'][axis]:.3f}" if "ns_scores" in row else "")
                for axis in AXES if axis in row["scores"])  # fmt: skip
            print(f"{pair:36s} {name:12s} {row['steps']:3d} steps  {line}", flush=True)
        tiles = [("photo", content), ("painting", style)]
        tiles += [(f"{name} ({row['steps']})", row["path"]) for name, row in impasto_rows.items()]
        if "neural-style" in data:
            steps = max(row["steps"] for row in impasto_rows.values())
            tiles.append((f"neural-style ({steps})", ns_at(data["neural-style"], steps)))
        montage(tiles, size, PAIRS.get(pair), output / f"montage-{pair.replace(':', '-')}.png")


if __name__ == "__main__":
    main()

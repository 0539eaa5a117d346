"""fp32 against mixed precision on the trained VGG16 (issue 25): does "mixed" pay, and does
the finished picture keep its quality? A script, not a test.

    .venv/bin/python bench/precision_trained.py                      # 384 and 512 px, 2 pairs
    .venv/bin/python bench/precision_trained.py --sizes 256 --pairs 1 --steps 20

For each size and pair, in one process, the two precisions one after the other (fp32
first, then mixed):
- seconds per step: the median over the run's steps after the first two (warm-up: oneDNN
  makes its kernels for each new shape then), and those two apart; and, for the table, the
  medians of an fp32 and a mixed run stepped in turn (--interleaved-steps each), whose ratio
  a busy machine does not bend;
- a finished picture at the engine's defaults (the run ends when the picture settles, at
  most --steps), its steps and seconds, scored by bench/judge.py (style and content
  separately, and J = their sum; lower is better; neither precision is told about it);
- the noise floor: fp32 once more on one thread (its sums round otherwise), scored the
  same: how far rounding alone moves the finished picture's score;
- which precision really ran (StyleTransfer.precision: "mixed" falls back to fp32 where
  the device has no bfloat16 units, engine/device.py).
Ratios are mixed / fp32 from the same run. Writes bench/results/precision-trained.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from judge import IMAGES, Judge, default_weights  # noqa: E402

from engine.device import has_bfloat16  # noqa: E402
from engine.images import load_image  # noqa: E402
from engine.run import Network, StyleTransfer  # noqa: E402
from engine.settings import RunSettings  # noqa: E402
from engine.vgg import read_state_dict  # noqa: E402

PAIRS = (("tubingen.jpg", "starry_night.jpg"), ("astronaut.png", "woman-with-hat-matisse.jpg"))


def run_once(state, content, style, size: int, steps: int, precision: str) -> dict:
    """One finished run at the defaults; every step timed."""
    settings = RunSettings(model="vgg16", size=size, steps=steps, device="cpu",
                           precision=precision)  # fmt: skip
    run = StyleTransfer(content, [style], settings, Network(state, "vgg16", "caffe"))
    times = []
    while not run.done:
        started = time.perf_counter()
        report = run.step()
        times.append(time.perf_counter() - started)
    return {"ran": run.precision, "steps": report.iteration, "seconds": sum(times),
            "first_two_steps": sum(times[:2]), "step_seconds": statistics.median(times[2:]),
            "image": run.current_image()}  # fmt: skip


def interleaved_step_seconds(state, content, style, size: int, steps: int) -> dict:
    """Median seconds per step of an fp32 and a mixed run stepped in turn, one step each:
    a busy machine slows both alike, so their ratio holds where the finished runs' times
    (one after the other) do not."""
    runs, times = {}, {"fp32": [], "mixed": []}
    for precision in times:
        settings = RunSettings(model="vgg16", size=size, steps=steps + 2, settle=0,
                               device="cpu", precision=precision)  # fmt: skip
        runs[precision] = StyleTransfer(content, [style], settings,
                                        Network(state, "vgg16", "caffe"))  # fmt: skip
    for _ in range(steps + 2):
        for precision, run in runs.items():
            started = time.perf_counter()
            run.step()
            times[precision].append(time.perf_counter() - started)
    medians = {precision: statistics.median(t[2:]) for precision, t in times.items()}
    return {**medians, "ratio": medians["mixed"] / medians["fp32"], "steps": steps}


def write(path: Path, rows: list[dict]) -> None:
    out = {"machine": platform.processor() or platform.machine(),
           "threads": torch.get_num_threads(), "torch": torch.__version__,
           "bfloat16_units": has_bfloat16(torch.device("cpu")),
           "load_average": os.getloadavg(), "rows": rows}  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1) + "\n")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="384,512")
    p.add_argument("--pairs", type=int, default=len(PAIRS))
    p.add_argument("--steps", type=int, default=RunSettings().steps)
    p.add_argument("--interleaved-steps", type=int, default=10)
    p.add_argument("--out", type=Path, default=HERE / "results" / "precision-trained.json")
    args = p.parse_args()
    weights = default_weights()
    state = read_state_dict(weights, "vgg16")
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        for content_name, style_name in PAIRS[: args.pairs]:
            content, style = load_image(IMAGES / content_name), load_image(IMAGES / style_name)
            judge = Judge(weights, IMAGES / content_name, IMAGES / style_name)
            row = {"size": size, "pair": f"{content_name} x {style_name}"}
            for precision in ("fp32", "mixed"):
                result = run_once(state, content, style, size, args.steps, precision)
                score = judge.score_tensor(result.pop("image"))
                score.pop("layers")
                row[precision] = {**result, **score}
                print(size, row["pair"], precision, json.dumps(row[precision]), flush=True)
            # The noise floor: fp32 again on one thread, whose sums round otherwise. How far
            # its score moves from fp32's is how far rounding alone moves a finished picture.
            threads = torch.get_num_threads()
            torch.set_num_threads(1)
            other = run_once(state, content, style, size, args.steps, "fp32")
            torch.set_num_threads(threads)
            score = judge.score_tensor(other.pop("image"))
            score.pop("layers")
            row["fp32_one_thread"] = {**other, **score}
            row["interleaved"] = interleaved_step_seconds(state, content, style, size,
                                                          args.interleaved_steps)  # fmt: skip
            print("interleaved", json.dumps(row["interleaved"]), flush=True)
            fp32, mixed = row["fp32"], row["mixed"]
            keys = ("step_seconds", "seconds", "J", "style", "content")
            row["ratio"] = {key: mixed[key] / fp32[key] for key in keys}
            row["noise_ratio"] = {key: row["fp32_one_thread"][key] / fp32[key]
                                  for key in ("J", "style", "content")}  # fmt: skip
            rows.append(row)
            print("ratio mixed/fp32", json.dumps(row["ratio"]), flush=True)
            write(args.out, rows)  # after every pair: a long run stopped keeps what it did
    print("| size | pair | s/step fp32 | s/step mixed | ratio (interleaved) | steps fp32 / mixed "
          "| finished, s (ratio) | J fp32 / mixed | style | content | J, fp32 on 1 thread |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        f, m, r, i = row["fp32"], row["mixed"], row["ratio"], row["interleaved"]
        print(f"| {row['size']} | {row['pair']} | {i['fp32']:.3f} | {i['mixed']:.3f}"
              f" | {i['ratio']:.2f}× | {f['steps']} / {m['steps']} | {f['seconds']:.1f} / "
              f"{m['seconds']:.1f} ({r['seconds']:.2f}×) | {f['J']:.3f} / {m['J']:.3f} | "
              f"{f['style']:.3f} / {m['style']:.3f} | {f['content']:.3f} / {m['content']:.3f} | "
              f"{row['fp32_one_thread']['J']:.3f} ({row['noise_ratio']['J']:.3f}×) |")


if __name__ == "__main__":
    main()

"""Run Impasto's engine for the benchmark (main virtualenv). Prints one line per event,
flushed, so the benchmark can time them on arrival:
READY (model and targets built), STEP i, IMAGE i path (a checkpoint written), DONE.

--arch/--preprocessing say what the weights file is (the random VGG19: vgg19/caffe, the
trained VGG16 of tests/trained_vgg.py: vgg16/caffe). --engine-weights runs with the engine's
own default content, style and TV weights (RunSettings) instead of the ones given.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from engine.images import load_image  # noqa: E402
from engine.run import Network, StyleTransfer  # noqa: E402
from engine.settings import RunSettings  # noqa: E402
from engine.vgg import read_state_dict  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("content")
    p.add_argument("style")
    p.add_argument("--weights", required=True)
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--scales", default="", help="coarse-to-fine sizes, e.g. 256,512")
    p.add_argument("--steps", type=int, default=10, help="total steps (over all scales)")
    p.add_argument("--optimizer", default="lbfgs")
    p.add_argument("--learning-rate", type=float)
    p.add_argument("--content-weight", type=float, default=1.0)
    p.add_argument("--style-weight", type=float, default=1.0)
    p.add_argument("--tv-weight", type=float, default=0.0)
    p.add_argument("--engine-weights", action="store_true", help="RunSettings' default weights")
    p.add_argument("--arch", default="vgg19", choices=("vgg19", "vgg16"))
    p.add_argument("--preprocessing", default="caffe", choices=("caffe", "torchvision"))
    p.add_argument("--save-every", type=int, default=0)
    p.add_argument("--out", default="out.png")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=0, help="0: engine.device's choice")
    p.add_argument("--preview", type=int, default=0, help="also make a preview of this size")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    scales = tuple(int(s) for s in args.scales.split(",") if s)
    weights = {}
    if not args.engine_weights:
        weights = dict(
            content_weight=args.content_weight,
            style_weight=args.style_weight,
            tv_weight=args.tv_weight,
        )
    settings = RunSettings(
        model=args.arch,
        size=args.size,
        scales=scales,
        steps=args.steps // max(1, len(scales)),
        optimizer=args.optimizer,
        learning_rate=args.learning_rate,
        **weights,
        device=args.device,
        init="content",
    )
    network = Network(read_state_dict(args.weights, args.arch), args.arch, args.preprocessing)
    run = StyleTransfer(
        load_image(args.content),
        [load_image(args.style)],
        settings,
        network,
        torch.device(args.device),
    )
    weights_used = {
        k: getattr(settings, k) for k in ("content_weight", "style_weight", "tv_weight")
    }
    print("SETTINGS", json.dumps(weights_used), flush=True)
    print("READY", flush=True)
    out = Path(args.out)
    while not run.done:
        report = run.step()
        i = report.iteration
        if args.preview:
            run.preview(args.preview)
        print(f"STEP {i} {report.losses['total']:.6g}", flush=True)
        if (args.save_every and i % args.save_every == 0) or run.done:
            path = out if run.done else out.with_name(f"{out.stem}_{i}{out.suffix}")
            run.result().save(path)
            print(f"IMAGE {i} {path}", flush=True)
    print("DONE", flush=True)


if __name__ == "__main__":
    main()

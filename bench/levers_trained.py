"""The levers of issue 14 that are not in the engine, measured on the trained VGG16.

    .venv/bin/python bench/levers_trained.py                    # every lever, 2 pairs, 384 px
    .venv/bin/python bench/levers_trained.py --levers lbfgs,adam-3 --steps 30 --size 256

Each lever runs in its own process (its changes to the engine's classes stay there) from
the photo at one size, every step to --steps (no stop on settle), and every marked step's
picture is scored by bench/judge.py (J = style + content, lower is better; neither the
engine nor neural-style optimises it). Steps, not seconds, are compared: every lever costs
one network evaluation a step (the pyramid's and the colour matrix's extra work is under
1 % of it), so steps to a quality is time to it on any machine. Also recorded: roughness
(mean neighbour difference) relative to the photo's, which speckle raises.

Levers:
- lbfgs: the engine's default optimizer (PixelLBFGS, trust radius from 1/64);
- radius-16, radius-8, radius-4: its first trust radius 1/16, 1/8, 1/4;
- laplacian, laplacian-quarter: L-BFGS on a Laplacian pyramid of the image (Kolkin et al.
  2019). For a linear reparameterisation x = B·θ, L-BFGS on θ is L-BFGS on x whose
  starting inverse Hessian is B·Bᵀ, so the pyramid is applied as that preconditioner
  (4 levels; "quarter": level k weighted 4^-k, a gentler version);
- colour: the same with Olah et al. 2018's decorrelated colour basis (its ImageNet colour
  correlation's square root M: preconditioner M·Mᵀ);
- adam-3, adam-5: Adam (learning rate 0.02) for the first 3 or 5 steps, then L-BFGS;
- adam, adam-averaged: Adam on pixels, without and with the averaged iterate;
- adam-pyramid: Adam on the pyramid's levels themselves (STROTSS's parameterisation).
Writes bench/results/levers-<size>.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
IMAGES = ROOT.parent / "shared" / "images"
LEVERS = ("lbfgs", "radius-16", "radius-8", "radius-4", "laplacian", "laplacian-quarter",
          "colour", "adam-3", "adam-5", "adam", "adam-averaged", "adam-pyramid")  # fmt: skip
PAIRS = ("tubingen:starry_night", "golden_gate:the_scream")
MARKS = (*range(1, 11), 12, 15, 20, 25, 30, 40, 50, 60, 80, 100)
LEVELS = 4
# Olah et al. 2018 (lucid): the square root of ImageNet's RGB colour correlation.
COLOUR_SQRT = ((0.26, 0.09, 0.02), (0.27, 0.00, -0.05), (0.27, -0.09, 0.03))


def upsample(image, size):
    import torch.nn.functional as F

    return F.interpolate(image, size=size, mode="bilinear", align_corners=False)


def pyramid_preconditioner(level_weight: float):
    """g -> B·Bᵀ·g for the 4-level pyramid B (level k: 1/2^k size, bilinear up), weights
    level_weight^k. Bᵀ is the exact adjoint of the upsampling, taken by autograd."""
    import torch

    def precondition(gradient):
        out = gradient.clone()
        height, width = gradient.shape[-2:]
        for k in range(1, LEVELS):
            small = torch.zeros(*gradient.shape[:2], max(1, height >> k), max(1, width >> k),
                                requires_grad=True)  # fmt: skip
            with torch.enable_grad():
                (adjoint,) = torch.autograd.grad(upsample(small, (height, width)), small,
                                                 grad_outputs=gradient)  # fmt: skip
            out += level_weight**k * upsample(adjoint, (height, width))
        return out

    return precondition


def colour_preconditioner():
    import torch

    root = torch.tensor(COLOUR_SQRT)
    metric = root @ root.T
    metric = metric / metric.diagonal().mean()
    return lambda gradient: torch.einsum("ij,bjhw->bihw", metric, gradient)


def precondition_lbfgs(precondition) -> None:
    """PixelLBFGS's two-loop recursion with the starting inverse Hessian γ·P instead of γ·I
    (γ = s·y / y·P·y, Nocedal & Wright 7.20 in P's metric)."""
    from engine import lbfgs

    def direction(self, gradient):
        q = -gradient.detach().clone()
        if not self.pairs:
            return precondition(q)
        alphas = []
        for s, y, rho in reversed(self.pairs):
            alpha = rho * lbfgs._dot(s, q)
            q -= alpha * y
            alphas.append(alpha)
        s, y, _ = self.pairs[-1]
        q = precondition(q) * (lbfgs._dot(s, y) / lbfgs._dot(y, precondition(y)))
        for (s, y, rho), alpha in zip(self.pairs, reversed(alphas), strict=True):
            q += (alpha - rho * lbfgs._dot(y, q)) * s
        return q

    lbfgs.PixelLBFGS._direction = direction


def first_radius(radius: float) -> None:
    from engine import lbfgs

    init = lbfgs.PixelLBFGS.__init__
    lbfgs.PixelLBFGS.__init__ = lambda self, image, history=100, lr=1.0: init(
        self, image, history, lr, radius
    )


def pyramid(image):
    import torch.nn.functional as F

    levels, current = [], image
    for _ in range(LEVELS - 1):
        small = F.interpolate(current, scale_factor=0.5, mode="area")
        levels.append(current - upsample(small, current.shape[-2:]))
        current = small
    return [*levels, current]


def collapse(levels):
    image = levels[-1]
    for detail in reversed(levels[:-1]):
        image = upsample(image, detail.shape[-2:]) + detail
    return image


def roughness(image) -> float:
    dx = (image[..., 1:] - image[..., :-1]).abs().mean()
    dy = (image[..., 1:, :] - image[..., :-1, :]).abs().mean()
    return float(dx + dy)


def child(args) -> None:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(HERE))
    import torch
    from judge import Judge

    from engine.images import load_image
    from engine.run import Network, StyleTransfer
    from engine.settings import RunSettings, with_size
    from engine.vgg import read_state_dict

    lever = args.child
    changes = {"settle": 0.0, "steps": args.steps}
    if lever.startswith("radius-"):
        first_radius(1 / int(lever.split("-")[1]))
    elif lever.startswith("laplacian"):
        precondition_lbfgs(pyramid_preconditioner(0.25 if lever.endswith("quarter") else 1.0))
    elif lever == "colour":
        precondition_lbfgs(colour_preconditioner())
    elif lever.startswith("adam"):
        changes["optimizer"] = "adam"
        changes["average"] = lever == "adam-averaged"
    content, style = (IMAGES / f"{name}.jpg" for name in args.pair.split(":"))
    settings = with_size(RunSettings(model="vgg16", device="cpu"), args.size).replace(**changes)
    network = Network(read_state_dict(args.weights, "vgg16"), "vgg16", "caffe")
    run = StyleTransfer(load_image(content), [load_image(style)], settings, network,
                        torch.device("cpu"))  # fmt: skip
    judge = Judge(args.weights, content, style)
    photo_roughness = roughness(run._content)
    warm_up = int(lever.split("-")[1]) if lever in ("adam-3", "adam-5") else 0
    levels = None
    if lever == "adam-pyramid":  # the levels are the variables; the run only scores them
        levels = [level.detach().clone().requires_grad_(True) for level in pyramid(run.image)]
        adam = torch.optim.Adam(levels, lr=settings.lr)
    rows, seconds = [], 0.0
    for step in range(1, args.steps + 1):
        started = time.perf_counter()
        if levels is not None:
            adam.zero_grad()
            with torch.enable_grad():
                run.image = collapse(levels)  # the loss reads the picture from run.image
                run._loss().backward()
            adam.step()
            with torch.no_grad():
                shown = collapse(levels).clamp(0, 1)
        else:
            if warm_up and step == warm_up + 1:  # the hybrid: L-BFGS from here
                run.settings = run.settings.replace(optimizer="lbfgs")
                run._make_optimizer(reset=True)
            run.step()
            shown = run.current_image()
        seconds += time.perf_counter() - started
        if step in MARKS or step == args.steps:
            score = judge.score_tensor(shown.cpu())
            rows.append({"step": step, **{k: score[k] for k in ("J", "style", "content")},
                         "roughness": roughness(shown) / photo_roughness})  # fmt: skip
    print(json.dumps({"rows": rows, "s_per_step": seconds / args.steps}))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--pair", default=PAIRS[0], help=argparse.SUPPRESS)
    p.add_argument("--levers", default=",".join(LEVERS))
    p.add_argument("--pairs", default=",".join(PAIRS))
    p.add_argument("--size", type=int, default=384)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--weights", type=Path)
    p.add_argument("--output", type=Path)
    args = p.parse_args()
    if args.weights is None:
        from judge import default_weights

        args.weights = default_weights()
    if args.child:
        child(args)
        return
    results = {"size": args.size, "steps": args.steps, "pairs": {}}
    for pair in args.pairs.split(","):
        for lever in args.levers.split(","):
            command = [sys.executable, __file__, "--child", lever, "--pair", pair, "--size",
                       str(args.size), "--steps", str(args.steps), "--weights",
                       str(args.weights)]  # fmt: skip
            done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
            if done.returncode:
                raise SystemExit(f"{lever} on {pair} failed:\n{done.stderr[-2000:]}")
            result = json.loads(done.stdout.splitlines()[-1])
            results["pairs"].setdefault(pair, {})[lever] = result
            line = " ".join(f"{r['step']}:{r['J']:.3f}" for r in result["rows"])
            final = result["rows"][-1]
            print(f"{pair} {lever:18} {line}  rough {final['roughness']:.2f}", flush=True)
    output = args.output or HERE / "results" / f"levers-{args.size}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()

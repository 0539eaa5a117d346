"""Run pystiche 1.0.1 for the benchmark (bench virtualenv). Same line protocol as
impasto_runner.py: READY, STEP i, IMAGE i path, DONE.

pystiche 1.0.1 reads `model_urls` from torchvision at import, which torchvision removed
(0.13+); the shim below puts empty tables back. No weights are downloaded: the shared
weights file is loaded with pystiche's own key mapping. Its Gram loss divides by H*W
where Impasto and neural-style divide by C*H*W, so each style layer is weighted 1/C^2 to
optimise the same objective. The loop is pystiche's own `image_optimization`, one step
per call with one persistent optimizer (its default: L-BFGS, lr 1, max_iter 1).
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import torch
import torchvision.models.alexnet  # noqa: F401
import torchvision.models.vgg  # noqa: F401
from PIL import Image

_VGG = ("vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn")
# Compatibility shim, see above (the modules, not the same-named model functions).
sys.modules["torchvision.models.alexnet"].model_urls = {"alexnet": ""}
sys.modules["torchvision.models.vgg"].model_urls = {arch: "" for arch in _VGG}

import pystiche  # noqa: E402
from pystiche import enc, loss, optim  # noqa: E402

STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
CHANNELS = {"relu1_1": 64, "relu2_1": 128, "relu3_1": 256, "relu4_1": 512, "relu5_1": 512}


def load(path: str, longest: int) -> torch.Tensor:
    image = Image.open(path).convert("RGB")
    scale = longest / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    array = np.asarray(image.resize(size, Image.Resampling.LANCZOS), dtype=np.float32) / 255
    return torch.from_numpy(array).permute(2, 0, 1)[None].contiguous()


def save(image: torch.Tensor, path: str) -> None:
    array = image[0].detach().clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).numpy()
    Image.fromarray(array).save(path)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("content")
    p.add_argument("style")
    p.add_argument("--weights", required=True)
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--optimizer", default="lbfgs")
    p.add_argument("--learning-rate", type=float, default=0.02, help="Adam, on [0, 1] pixels")
    p.add_argument("--content-weight", type=float, default=1.0)
    p.add_argument("--style-weight", type=float, default=1.0)
    p.add_argument("--save-every", type=int, default=0)
    p.add_argument("--out", default="out.png")
    args = p.parse_args()

    mle = enc.vgg19_multi_layer_encoder(pretrained=False, framework="caffe")
    state = torch.load(args.weights, map_location="cpu", weights_only=True)
    mle.load_state_dict(state, framework="caffe")
    content_loss = loss.FeatureReconstructionLoss(
        mle.extract_encoder("relu4_2"), score_weight=args.content_weight
    )
    style_loss = loss.MultiLayerEncodingLoss(
        mle,
        STYLE_LAYERS,
        lambda encoder, weight: loss.GramLoss(encoder, score_weight=weight),
        layer_weights=[1 / CHANNELS[layer] ** 2 for layer in STYLE_LAYERS],
        score_weight=args.style_weight,
    )
    criterion = loss.PerceptualLoss(content_loss, style_loss)
    content = load(args.content, args.size)
    criterion.set_content_image(content)
    criterion.set_style_image(load(args.style, args.size))
    image = content.clone().requires_grad_(True)
    if args.optimizer == "lbfgs":
        optimizer = optim.default_image_optimizer(image)
    else:
        optimizer = torch.optim.Adam([image], lr=args.learning_rate)
    print("READY", pystiche.__version__, flush=True)
    for i in range(1, args.steps + 1):
        optim.image_optimization(image, criterion, optimizer, num_steps=1, quiet=True)
        print(f"STEP {i}", flush=True)
        if (args.save_every and i % args.save_every == 0) or i == args.steps:
            path = args.out if i == args.steps else args.out.replace(".png", f"_{i}.png")
            save(image, path)
            print(f"IMAGE {i} {path}", flush=True)
    print("DONE", flush=True)


if __name__ == "__main__":
    main()

"""An independent judge of style-transfer results: a number neither tool optimises.

Both Impasto and neural-style minimise Gram-matrix losses at VGG relu1_1, relu2_1, relu3_1,
relu4_1, relu5_1 and a feature MSE at relu4_2. Scoring them on that objective (as
common_eval.py does for the random-VGG19 benchmark) rewards whoever weights it most, so this
judge measures other things, on each tool's saved PNG:

- Style: the sliced Wasserstein distance (SWD) between the result's and the painting's
  feature distributions at VGG16 relu1_2, relu2_2, relu3_3, relu4_3 — the last ReLU of each
  of the first four blocks, layers neither objective uses. At each layer the features of
  every pixel form a point cloud in C dimensions; both clouds are projected on the same
  fixed set of 64 random unit directions (seeded per layer, so every image is judged on the
  same directions), each projection is sorted, and the two sorted lists are compared at
  common quantiles (the shorter list's length): SWD = sqrt(mean squared difference). The
  painting is resized to the result's longest side (its own aspect ratio kept, so the
  number of points differs: hence quantiles). Each layer's SWD is divided by the content
  photo's own SWD to the painting at the result's size, so the unchanged photo scores 1.0
  and lower is more painted; the style score is the mean over the four layers.
- Content: network-free structure, 1 − SSIM between the luminance (Rec. 601 Y) of the
  result and of the photo, both downsampled 4× (area average), Gaussian window (11 px,
  σ 1.5), the usual constants for a [0, 1] range. 0 is the photo's own structure.
- Quality J = style + content, lower is better. The photo scores J ≈ 1 (style 1,
  content 0); a result must trade some structure for a closer style to beat it. J sums
  two axes, so a result can win it by giving up the photo for the painting (issue 23):
  compare the axes below one by one, never only their sum.

Terms that see the subject (issue 23), each reported on its own:
- Edges: 1 − the correlation of the result's luminance gradients with the photo's, at full
  size, ½ and ¼ (area average), averaged over the three. At each size the gradients are
  central differences (gx, gy) and the correlation is the cosine between the two gradient
  fields, Σ g_result·g_photo / sqrt(Σ|g_result|² Σ|g_photo|²): 1 when every edge of the
  photo is where it was, with its direction, and no other edge was drawn. SSIM at ¼ size
  sees brightness in blocks; this sees eyes, lips, cables and window frames. 0 is the
  photo; the painting stretched to the photo's size scores about 1.
- Face: the same edge term inside a box given as fractions of the picture (a portrait's
  face, a pet's eyes and nose), where a few patches decide whether the sitter survives;
  reported only when a box is given.
- Copies: the share of the result's deep feature vectors (VGG16 relu4_3 and relu5_3, the
  mean of the two layers; the optimisers use relu4_1, relu4_2 and relu5_1) that are a
  near-copy of a patch of the painting: whose cosine distance to the nearest of the
  painting's vectors is under COPY_RATIO of that to the nearest of the photo's. A painted
  photo keeps vectors near the photo's even when its texture is the painting's; a pasted
  figure, face or room of the painting does not. 0 for the photo, about 1 for the
  painting stretched to the photo's size (its own vectors at another resampling).
- Colour: how far the result's mean colour (Lab a, b) moved from the photo's, beyond where
  the painting's own mean lies: the distance from the result's mean to the segment from the
  photo's mean to the painting's, in Lab units. 0 for any mix of the two palettes; a tint
  that neither has (a blue-green cast on a black-and-white print), or colour lost, scores
  above 0 (the astronaut turned grey: 6.9; tinted 0.8/1/1.1 in RGB: 3.6).

Checked (astronaut × Matisse and tubingen × starry_night at 384 px): the photo scores 0 on
edges, face, copies and colour; the painting stretched to the photo's size scores the worst
edges (1.00) and copies (0.90 and 0.995); a 5 px box blur 0.13-0.26 edges, 0 copies.

The VGG16 forward is written here with F.conv2d on the weights file (torchvision layout,
`features.N.*`; Caffe preprocessing: BGR, 0-255, mean subtracted), so the judge depends on
no tool's code. The trained VGG16 is tests/trained_vgg.py's file.

    .venv/bin/python bench/judge.py RESULT.png [...] --weights W --content C --style S
    .venv/bin/python bench/judge.py --sanity      # the hand-run check (photo, painting, a run)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import torch
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from common_eval import load_rgb  # noqa: E402  (the bench's image reader; no tool's code)

IMAGES = ROOT.parent / "shared" / "images"

STYLE_LAYERS = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")
COPY_LAYERS = ("relu4_3", "relu5_3")
# "Much nearer": the painting's nearest vector at under half the distance of the photo's.
COPY_RATIO = 0.5
EDGE_SCALES = (1, 2, 4)
PROJECTIONS = 64
_BLOCKS = (2, 2, 3, 3, 3)  # VGG16 convolutions per block
_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
_SSIM_WINDOW, _SSIM_SIGMA, _DOWNSAMPLE = 11, 1.5, 4


def vgg16_features(
    state: dict[str, torch.Tensor], image: torch.Tensor, layers: tuple[str, ...] = STYLE_LAYERS
) -> dict[str, torch.Tensor]:
    """`layers` of VGG16 for an RGB [0, 1] image, as (C, H*W) point clouds."""
    mean = torch.tensor(_CAFFE_MEAN_BGR).view(1, 3, 1, 1)
    x = image.flip(1) * 255 - mean
    found, index = {}, 0
    for block, convs in enumerate(_BLOCKS, start=1):
        for conv in range(1, convs + 1):
            weight, bias = state[f"features.{index}.weight"], state[f"features.{index}.bias"]
            x = F.conv2d(x, weight, bias, padding=1).relu()
            index += 2
            name = f"relu{block}_{conv}"
            if name in layers:
                found[name] = x[0].flatten(1)
                if len(found) == len(layers):
                    return found
        x = F.max_pool2d(x, 2)
        index += 1
    return found


def projections(channels: int, layer_index: int) -> torch.Tensor:
    """A fixed (C, PROJECTIONS) set of random unit directions for one layer."""
    generator = torch.Generator().manual_seed(1000 + layer_index)
    directions = torch.randn(channels, PROJECTIONS, generator=generator)
    return directions / directions.norm(dim=0, keepdim=True)


def sorted_projections(cloud: torch.Tensor, directions: torch.Tensor) -> torch.Tensor:
    """(N, P): each direction's projections of the N points, sorted."""
    return (cloud.T @ directions).sort(dim=0).values


def _at_quantiles(values: torch.Tensor, count: int) -> torch.Tensor:
    """Rows of a sorted (N, P) tensor at `count` evenly spaced quantiles (cell centres)."""
    if values.shape[0] == count:
        return values
    positions = (torch.arange(count, dtype=torch.float64) + 0.5) * values.shape[0] / count
    return values[positions.long().clamp(max=values.shape[0] - 1)]


def sliced_wasserstein(a: torch.Tensor, b: torch.Tensor) -> float:
    """SW2 between two sorted projection tensors (N, P) and (M, P)."""
    count = min(a.shape[0], b.shape[0])
    difference = _at_quantiles(a, count) - _at_quantiles(b, count)
    return float(difference.pow(2).mean().sqrt())


def luminance(image: torch.Tensor) -> torch.Tensor:
    r, g, b = image[:, 0:1], image[:, 1:2], image[:, 2:3]
    return 0.299 * r + 0.587 * g + 0.114 * b


def ssim(x: torch.Tensor, y: torch.Tensor) -> float:
    """Mean SSIM of two (1, 1, H, W) images in [0, 1], Gaussian window, no padding."""
    coords = torch.arange(_SSIM_WINDOW, dtype=torch.float32) - (_SSIM_WINDOW - 1) / 2
    g = torch.exp(-(coords**2) / (2 * _SSIM_SIGMA**2))
    window = (g[:, None] * g[None, :] / g.sum() ** 2)[None, None]
    blur = lambda t: F.conv2d(t, window)  # noqa: E731
    c1, c2 = 0.01**2, 0.03**2
    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx**2, blur(y * y) - my**2, blur(x * y) - mx * my
    index = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
    return float(index.mean())


def structure_loss(result: torch.Tensor, photo: torch.Tensor) -> float:
    """1 − SSIM of the luminance, both downsampled by _DOWNSAMPLE (area average)."""
    h, w = result.shape[-2:]
    small = (max(_SSIM_WINDOW, h // _DOWNSAMPLE), max(_SSIM_WINDOW, w // _DOWNSAMPLE))
    down = lambda t: F.interpolate(luminance(t), size=small, mode="area")  # noqa: E731
    return 1.0 - ssim(down(result), down(photo))


def _gradients(y: torch.Tensor) -> torch.Tensor:
    """Central-difference gradients (gx, gy) of a (1, 1, H, W) image, interior pixels."""
    gx = y[..., 1:-1, 2:] - y[..., 1:-1, :-2]
    gy = y[..., 2:, 1:-1] - y[..., :-2, 1:-1]
    return torch.cat([gx, gy], 1)


def edge_loss(result: torch.Tensor, photo: torch.Tensor, box=None) -> float:
    """1 − the multi-scale correlation of luminance gradients (the module docstring).
    `box`: (left, top, right, bottom) as fractions of the picture; None: all of it."""
    if box is not None:
        h, w = result.shape[-2:]
        left, top, right, bottom = box
        rows = slice(round(top * h), round(bottom * h))
        cols = slice(round(left * w), round(right * w))
        result, photo = result[..., rows, cols], photo[..., rows, cols]
    correlations = []
    for factor in EDGE_SCALES:
        size = (result.shape[-2] // factor, result.shape[-1] // factor)
        a, b = (_gradients(F.interpolate(luminance(t), size=size, mode="area"))
                for t in (result, photo))  # fmt: skip
        norms = ((a * a).sum() * (b * b).sum()).sqrt().clamp_min(1e-12)
        correlations.append(float((a * b).sum() / norms))
    return 1.0 - sum(correlations) / len(correlations)


def _nearest_distance(points: torch.Tensor, pool: torch.Tensor) -> torch.Tensor:
    """Per column of `points` (C, N): cosine distance to the nearest column of `pool`."""
    unit = lambda t: t / t.norm(dim=0, keepdim=True).clamp_min(1e-6)  # noqa: E731
    return 1 - (unit(points).T @ unit(pool)).max(dim=1).values


def copied_share(mine: dict, photo: dict, painting: dict) -> float:
    """Share of the result's COPY_LAYERS vectors much nearer the painting's than the photo's."""
    shares = []
    for layer in COPY_LAYERS:
        to_painting = _nearest_distance(mine[layer], painting[layer])
        to_photo = _nearest_distance(mine[layer], photo[layer])
        shares.append(float((to_painting < COPY_RATIO * to_photo).float().mean()))
    return sum(shares) / len(shares)


def mean_lab_ab(image: torch.Tensor) -> torch.Tensor:
    """The mean (a, b) of an RGB [0, 1] image in CIE Lab (sRGB, D65)."""
    rgb = image[0].flatten(1)
    linear = torch.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = torch.tensor([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                        [0.0193, 0.1192, 0.9505]]) @ linear  # fmt: skip
    xyz = xyz / torch.tensor([0.9505, 1.0, 1.089])[:, None]
    f = torch.where(xyz > 0.008856, xyz.clamp_min(1e-12) ** (1 / 3), 7.787 * xyz + 16 / 116)
    return torch.stack([500 * (f[0] - f[1]), 200 * (f[1] - f[2])]).mean(1)


def colour_cast(result: torch.Tensor, photo: torch.Tensor, painting: torch.Tensor) -> float:
    """Lab distance from the result's mean (a, b) to the segment photo–painting."""
    r, p, q = mean_lab_ab(result), mean_lab_ab(photo), mean_lab_ab(painting)
    along = ((r - p) @ (q - p) / (q - p).pow(2).sum().clamp_min(1e-12)).clamp(0, 1)
    return float((r - (p + along * (q - p))).norm())


class Judge:
    """Scores result images against one photo and one painting (see the module docstring)."""

    def __init__(self, weights: str | Path, content: str | Path, style: str | Path, face=None):
        """`face`: a box (left, top, right, bottom) as fractions, for the face term."""
        self.state = torch.load(weights, map_location="cpu", weights_only=True)
        self.content_path, self.style_path, self.face = content, style, face
        self._deep: dict = {}  # (kind, size) -> COPY_LAYERS clouds of the photo or painting
        self._painting: dict[int, dict[str, torch.Tensor]] = {}
        self._photo: dict[tuple[int, int], tuple[torch.Tensor, dict[str, float]]] = {}
        self._directions: dict[str, torch.Tensor] = {}

    def _sorted(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        clouds = vgg16_features(self.state, image)
        out = {}
        for i, layer in enumerate(STYLE_LAYERS):
            if layer not in self._directions:
                self._directions[layer] = projections(clouds[layer].shape[0], i)
            out[layer] = sorted_projections(clouds[layer], self._directions[layer])
        return out

    def _painting_for(self, longest: int) -> dict[str, torch.Tensor]:
        if longest not in self._painting:
            self._painting[longest] = self._sorted(load_rgb(self.style_path, longest=longest))
        return self._painting[longest]

    def _photo_for(self, size: tuple[int, int]):
        """The photo at `size` (W, H) and its own per-layer SWD to the painting."""
        if size not in self._photo:
            photo = load_rgb(self.content_path, size=size)
            painting = self._painting_for(max(size))
            mine = self._sorted(photo)
            baseline = {k: sliced_wasserstein(mine[k], painting[k]) for k in STYLE_LAYERS}
            self._photo[size] = (photo, baseline)
        return self._photo[size]

    @torch.no_grad()
    def score_tensor(self, image: torch.Tensor) -> dict:
        size = (image.shape[-1], image.shape[-2])
        photo, baseline = self._photo_for(size)
        painting = self._painting_for(max(size))
        mine = self._sorted(image)
        layers = {k: sliced_wasserstein(mine[k], painting[k]) / baseline[k] for k in STYLE_LAYERS}
        style = sum(layers.values()) / len(layers)
        content = structure_loss(image, photo)
        scores = {"J": style + content, "style": style, "content": content, "layers": layers}
        scores["edges"] = edge_loss(image, photo)
        if self.face is not None:
            scores["face"] = edge_loss(image, photo, self.face)
        scores["copies"] = copied_share(self._deep_of(image), *self._references(size))
        scores["colour"] = colour_cast(image, photo, self._painting_image(size))
        return scores

    def _deep_of(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        return vgg16_features(self.state, image, COPY_LAYERS)

    def _painting_image(self, size: tuple[int, int]) -> torch.Tensor:
        return load_rgb(self.style_path, longest=max(size))

    def _references(self, size: tuple[int, int]) -> tuple[dict, dict]:
        """The photo's and the painting's COPY_LAYERS clouds at the result's size."""
        if size not in self._deep:
            photo = self._deep_of(self._photo_for(size)[0])
            self._deep[size] = (photo, self._deep_of(self._painting_image(size)))
        return self._deep[size]

    def __call__(self, image_path: str | Path) -> dict:
        return self.score_tensor(load_rgb(image_path))


def default_weights() -> Path:
    sys.path.insert(0, str(ROOT))
    from tests.trained_vgg import trained_vgg16_path

    return trained_vgg16_path()


def sanity(weights: Path, content: Path, style: Path, size: int, steps: int) -> dict:
    """Photo: style ≈ 1, content 0. Painting stretched to the photo's size: low style, high
    content. A few Impasto steps (its engine defaults, in its own process): in between."""
    judge = Judge(weights, content, style)
    photo = load_rgb(content, longest=size)
    wh = (photo.shape[-1], photo.shape[-2])
    rows = {
        "photo": judge.score_tensor(photo),
        "painting": judge.score_tensor(load_rgb(style, size=wh)),
    }
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "impasto.png"
        runner = [sys.executable, str(HERE / "impasto_runner.py"), str(content), str(style),
                  "--weights", str(weights), "--arch", "vgg16", "--preprocessing", "caffe",
                  "--engine-weights", "--size", str(size), "--steps", str(steps),
                  "--out", str(out)]  # fmt: skip
        subprocess.run(runner, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
        result = load_rgb(out)
        if (result.shape[-1], result.shape[-2]) != wh:
            result = F.interpolate(result, size=(wh[1], wh[0]), mode="area")
        rows[f"impasto {steps} steps"] = judge.score_tensor(result)
    return rows


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("images", nargs="*", type=Path)
    p.add_argument("--weights", type=Path, help="default: tests/trained_vgg.py's VGG16")
    p.add_argument("--content", type=Path, default=IMAGES / "tubingen.jpg")
    p.add_argument("--style", type=Path, default=IMAGES / "starry_night.jpg")
    p.add_argument("--face", type=float, nargs=4, help="the face box, fractions L T R B")
    p.add_argument("--sanity", action="store_true")
    p.add_argument("--size", type=int, default=128, help="--sanity: image size")
    p.add_argument("--steps", type=int, default=10, help="--sanity: Impasto steps")
    args = p.parse_args()
    weights = args.weights or default_weights()
    if args.sanity:
        rows = sanity(weights, args.content, args.style, args.size, args.steps)
    else:
        judge = Judge(weights, args.content, args.style, args.face)
        rows = {str(path): judge(path) for path in args.images}
    for name, row in rows.items():
        layers = " ".join(f"{k} {v:.3f}" for k, v in row["layers"].items())
        subject = " ".join(f"{k} {row[k]:.3f}" for k in ("edges", "face", "copies", "colour")
                           if k in row)  # fmt: skip
        print(f"{name:24s} J {row['J']:.4f}  style {row['style']:.4f}  "
              f"content {row['content']:.4f}  {subject}  ({layers})")  # fmt: skip
    print(json.dumps(rows))


if __name__ == "__main__":
    main()

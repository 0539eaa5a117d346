"""A step-able style-transfer run (Gatys, Ecker, Bethge 2016).

Build a StyleTransfer once: the content and style targets are computed then. Each
`step()` does one optimisation step and returns a StepReport. Between steps the caller
may read the image, change weights with `update()`, or simply stop calling `step()` to
pause. The pixels of the output image are the only variables.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from engine.color import keep_luminance_only
from engine.convergence import SettleWatch
from engine.device import has_bfloat16, is_out_of_memory, pick_device, release_memory
from engine.images import resize_longest, to_image, to_tensor
from engine.losses import total_variation
from engine.optimizers import carry_adam_moments, new_optimizer, set_learning_rate
from engine.progress_watch import ProgressWatch, RunOutOfMemory, RunStalled
from engine.regions import (
    Region,
    RegionTargets,
    check_regions,
    everywhere,
    layer_masks,
    output_masks,
    region_content_losses,
    region_style_losses,
    style_images,
)
from engine.settings import LIVE_FIELDS, RunSettings
from engine.targets import InputTooSmall, check_sizes, style_side
from engine.vgg import VGGFeatures

DISPLAY_FIELDS = ("average", "preserve_colors")  # change what is shown, not what is optimised
__all__ = ["StyleTransfer", "StepReport", "Network", "InputTooSmall", "RunOutOfMemory",
           "RunStalled", "keep_luminance_only"]  # fmt: skip


@dataclass(frozen=True)
class StepReport:
    iteration: int  # steps done so far, over all scales
    total_steps: int
    scale_index: int
    size: tuple[int, int]  # (width, height) of the current scale
    losses: dict[str, float]  # weighted terms: content, style, tv, and their total
    seconds: float  # optimisation time so far (pauses excluded)
    rolled_back: bool = False
    message: str = ""
    settled: bool = False  # this step ended its scale early: the picture stopped changing
    # About how many steps the run will take in all, if its last scale settles when its
    # change per step is heading to (engine/convergence.py); total_steps if unknown.
    expected_steps: int | None = None
    # The settings this step ran with: the engine's, the only authority (a rollback lowers
    # the learning rate; a live change lands between steps). Saved with its picture.
    settings: RunSettings | None = None


@dataclass(frozen=True)
class Network:
    """A VGG state dict with how its inputs must be prepared."""

    state_dict: dict[str, torch.Tensor] = field(repr=False)
    arch: str = "vgg19"
    preprocessing: str = "torchvision"


class StyleTransfer:
    def __init__(
        self,
        content: Image.Image,
        styles: list[Image.Image],
        settings: RunSettings,
        network: Network,
        device: torch.device | str | None = None,
        init_image: Image.Image | None = None,
        start_step: int = 0,
        regions: Sequence[Region] = (),
    ):
        """`start_step`: go on from a picture taken at that step of an earlier run with the
        same settings (`init_image`): the count, the scale and the steps left follow from it.
        `regions`: where each style goes (engine/regions.py); none: every style everywhere."""
        if not styles:
            raise ValueError("need at least one style image")
        if settings.style_blend and len(settings.style_blend) != len(styles):
            raise ValueError(
                f"{len(settings.style_blend)} blend weights given for {len(styles)} style images"
            )
        if network.arch != settings.model:
            raise ValueError(f"weights are for {network.arch}, settings ask for {settings.model}")
        self.settings = settings
        self.device = (
            device if isinstance(device, torch.device) else pick_device(device or settings.device)
        )
        # What actually runs: "auto" and "mixed" are fp32 where bfloat16 units are missing.
        mixed = settings.precision in ("auto", "mixed") and has_bfloat16(self.device)
        self.precision = "mixed" if mixed else "fp32"
        self._content_source = content
        self._style_sources = list(styles)
        self._init_source = init_image
        check_sizes(content, styles, settings)
        check_regions(regions, len(styles))
        self._regions = tuple(regions)
        self.net = VGGFeatures(
            network.state_dict,
            settings.content_layers + settings.style_layers,
            arch=network.arch,
            preprocessing=network.preprocessing,
            pooling=settings.pooling,
            padding=settings.padding,
        ).to(self.device)
        self.iteration = 0
        self.seconds = 0.0
        self.total_steps = settings.steps * len(settings.sizes)
        self.scale_index = -1
        self._scale_starts: dict[int, int] = {}  # scale -> the iteration it began at
        self.image: torch.Tensor | None = None
        if start_step:
            self._go_to(start_step, init_image)
        else:
            self._start_scale(0)

    # --- the public surface -------------------------------------------------------

    @property
    def done(self) -> bool:
        return self.iteration >= self.total_steps

    def step(self) -> StepReport:
        """One optimisation step. Moves to the next scale when this one is finished."""
        if self.done:
            raise RuntimeError("the run is finished")
        # Tiny activations become denormal floats, which CPUs handle up to 100x slower;
        # flushing them to zero changes nothing visible. The flag is per thread and also
        # governs the caller's own float arithmetic, so it is on only while a step runs.
        torch.set_flush_denormal(True)
        try:
            return self._step()
        finally:
            torch.set_flush_denormal(False)

    def _step(self) -> StepReport:
        if self._steps_in_scale >= self.settings.steps or self._settled:
            self._start_scale(self.scale_index + 1)
        started = time.perf_counter()
        evaluated = self.image.detach().clone()  # the point this step's loss is taken at
        try:
            with torch.enable_grad():
                if self.settings.optimizer == "lbfgs":
                    total = self.optimizer.step(self._closure)
                    good = self.optimizer.rejected is None
                    non_finite = self.optimizer.rejected == "non-finite"
                else:
                    total = self._closure()
                    non_finite = not _finite(total, self.image.grad)
                    good = not non_finite
                    if good:
                        self.optimizer.step()
                        with torch.no_grad():
                            self.image.clamp_(0, 1)  # Adam: keep pixels in range
        except Exception as error:
            if not is_out_of_memory(error):
                raise
            self._recover_from_out_of_memory()
            width, height = self.image.shape[-1], self.image.shape[-2]
            raise RunOutOfMemory(
                f"out of memory on {self.device.type.upper()} at {width}×{height} px; "
                "the last good image is kept"
            ) from error
        message = ""
        if good:
            self._last_good.copy_(evaluated)
            self._update_average()
        elif non_finite and self.settings.optimizer != "lbfgs":
            message = self._roll_back()
        elif non_finite:
            message = "loss became NaN or infinite; step undone, next step smaller"
        message = self._watch_progress(good, float(total), message)
        self.iteration += 1
        self._steps_in_scale += 1
        self._settled = good and self._settle.observe(self.image)
        if self._settled:  # the steps this scale no longer needs leave the total
            self.total_steps -= self.settings.steps - self._steps_in_scale
        self.seconds += time.perf_counter() - started
        return StepReport(
            iteration=self.iteration,
            total_steps=self.total_steps,
            scale_index=self.scale_index,
            size=(self.image.shape[-1], self.image.shape[-2]),
            losses=dict(self._last_terms),
            seconds=self.seconds,
            rolled_back=non_finite,
            message=message,
            settled=self._settled,
            expected_steps=self._expected_steps(),
            settings=self.settings,
        )

    def update(self, **changes) -> None:
        """Change live settings (weights, blend, learning rate) without recomputing targets."""
        unknown = set(changes) - set(LIVE_FIELDS)
        if unknown:
            raise ValueError(f"cannot change {', '.join(sorted(unknown))} during a run")
        settings = self.settings.replace(**changes)
        if settings.style_blend and len(settings.style_blend) != len(self._style_sources):
            raise ValueError("need one blend weight per style image")
        objective_changed = any(
            getattr(settings, name) != getattr(self.settings, name)
            for name in changes
            if name not in DISPLAY_FIELDS
        )
        self.settings = settings
        if not objective_changed:
            return
        self._apply_blend()
        # L-BFGS's curvature memory describes the old objective; after a change it would
        # point the wrong way, so start its history afresh. Adam's moments stay valid.
        self._make_optimizer(reset=self.settings.optimizer == "lbfgs")

    def update_regions(self, regions: Sequence[Region]) -> None:
        """New or edited region masks, used from the next step. Style targets already made
        at this scale are reused: only a painting (or painting mask) not seen before costs
        a network pass. Without regions every style paints everywhere again."""
        check_regions(regions, len(self._style_sources))
        self._regions = tuple(regions)
        with torch.no_grad():
            self._build_losses(self.settings.sizes[self.scale_index])
            current = self._features(self.image.detach())
            for layer, loss in self._style_losses.items():
                loss.calibrate(current[layer])
        self._make_optimizer(reset=self.settings.optimizer == "lbfgs")

    def current_image(self) -> torch.Tensor:
        """The image as shown: (1, 3, H, W) in [0, 1] on the run's device (a copy)."""
        if self.settings.average and self._average_steps:
            # Bias correction: the average starts at zero, so divide by the weight it holds.
            weight = 1 - self.settings.average_decay**self._average_steps
            image = (self._average / weight).clamp(0, 1)
        else:
            image = self.image.detach().clamp(0, 1)
        if self.settings.preserve_colors:
            image = keep_luminance_only(image, self._content)
        return image

    def result(self) -> Image.Image:
        return to_image(self.current_image().cpu())

    def preview(self, max_side: int | None = None) -> np.ndarray:
        """The current image as an (H, W, 3) uint8 array, optionally downscaled on the device."""
        image = self.current_image()
        if max_side and max(image.shape[-2:]) > max_side:
            scale = max_side / max(image.shape[-2:])
            image = F.interpolate(image, scale_factor=scale, mode="area")
        array = image[0].clamp(0, 1).mul(255).round().byte().permute(1, 2, 0)
        return np.ascontiguousarray(array.cpu().numpy())

    def restore(self, image: Image.Image, step: int | None = None) -> None:
        """Continue from `image` (e.g. a snapshot): at the current scale, or with `step`
        counting on from that step, at its scale."""
        if step is not None:
            self._go_to(step, image)
            return
        with torch.no_grad():
            self.image.copy_(self._fit(to_tensor(image.convert("RGB"))))
            self._last_good.copy_(self.image)
        self._make_optimizer(reset=True)

    def close(self) -> None:
        """Release the network and tensors so no GPU memory stays held."""
        device = self.device
        self.net = self.optimizer = self.image = self._last_good = None
        self._content_losses = self._style_losses = self._content = self._average = None
        self._content_targets = self._region_targets = None
        self._settle = None  # holds an image too
        release_memory(device)

    # --- internals ----------------------------------------------------------------

    def _go_to(self, step: int, image: Image.Image | None) -> None:
        """Be at `step` with `image`: its scale, the steps left in it, its count."""
        if image is None or not 0 <= step < self.total_steps:
            raise ValueError(f"cannot go on from step {step} of {self.total_steps}")
        index, within = divmod(step, self.settings.steps)
        begun = [i for i, first in self._scale_starts.items() if first <= step]
        if begun and step < self.iteration:  # this run's scales may have settled early
            index = max(begun)
            within = step - self._scale_starts[index]
        self.iteration = step - within
        if index == self.scale_index:  # the targets of this scale are built already
            self.restore(image)
            self._scale_ceilings(index)
        else:
            self._start_scale(index, image)
        self.iteration, self._steps_in_scale = step, within

    def _start_scale(self, index: int, start_image: Image.Image | None = None) -> None:
        size = self.settings.sizes[index]
        if start_image is not None:
            self.image = None  # _fit then sizes the picture to this scale's content
        content = self._tensor(resize_longest(self._content_source, size))
        height, width = content.shape[-2:]
        with torch.no_grad():
            features = self._features(content)
            self._content = content
            self._content_targets = {name: features[name] for name in self.settings.content_layers}
            self._layer_shapes = {layer: tuple(f.shape[-2:]) for layer, f in features.items()}
            self._region_targets = None  # the paintings are seen at another size now
            self._build_losses(size)
            if start_image is not None:  # going on from a picture taken at this scale
                start = self._fit(to_tensor(start_image.convert("RGB")))
            elif index == 0:
                start = self._initial_image(content)
            else:  # coarse-to-fine: start from the previous result, upsampled
                start = F.interpolate(self.image.detach(), size=(height, width),
                                      mode="bicubic", align_corners=False).clamp(0, 1)  # fmt: skip
            start_features = self._features(start)
            for layer, loss in self._style_losses.items():
                loss.calibrate(start_features[layer])
        carry = index > 0 and start_image is None
        previous_optimizer = getattr(self, "optimizer", None) if carry else None
        self.image = start.detach().contiguous().requires_grad_(True)
        self._last_good = self.image.detach().clone()
        self._last_terms = {"content": 0.0, "style": 0.0, "tv": 0.0, "total": 0.0}
        self.scale_index, self._steps_in_scale = index, 0
        self._scale_ceilings(index)
        self._watch = ProgressWatch()
        # The averaged iterate restarts at each scale: older images have another size.
        self._average, self._average_steps = torch.zeros_like(self._last_good), 0
        self._make_optimizer(reset=True)
        if previous_optimizer is not None and self.settings.carry_moments:
            carry_adam_moments(previous_optimizer, self.optimizer, self.image)

    def _build_losses(self, size: int) -> None:
        """This scale's content and style losses: one pipeline, a run without regions being
        the one region `everywhere` (engine/regions.py)."""
        settings = self.settings
        regions = self._regions or (everywhere(len(self._style_sources)),)
        if self._region_targets is None:
            styles = style_images(self._style_sources, style_side(settings, size), self.device)
            self._region_targets = RegionTargets(
                styles, self._content, settings.color_match, settings.style_statistic,
                settings.style_layers, self._features)  # fmt: skip
        height, width = self._content.shape[-2:]
        masks = layer_masks(output_masks(regions, height, width, self.device),
                            self._layer_shapes)  # fmt: skip
        blend = torch.tensor(self._blend(), device=self.device)
        self._style_losses = region_style_losses(
            regions, self._region_targets,
            {layer: masks[layer] for layer in settings.style_layers},
            settings.style_statistic, blend)  # fmt: skip
        self._content_losses = region_content_losses(
            regions, {layer: masks[layer] for layer in settings.content_layers},
            self._content_targets)  # fmt: skip

    def _scale_ceilings(self, index: int) -> None:
        """Scale `index` begins at this iteration: it and the later ones count their whole
        ceilings again (a settled scale took fewer); the settle watch starts afresh."""
        self._scale_starts = {i: n for i, n in self._scale_starts.items() if i < index}
        self._scale_starts[index] = self.iteration
        self.total_steps = self.iteration + self.settings.steps * (len(self.settings.sizes) - index)
        self._settle, self._settled = SettleWatch(self.settings.settle), False

    def _expected_steps(self) -> int:
        """The total, with this scale ending where its settle watch expects (a coarser
        scale than the last cannot say how the later ones will go: they count in full)."""
        left = self._settle.steps_left()
        if left is None or self._settled:
            return self.total_steps
        ceiling_left = self.settings.steps - self._steps_in_scale
        return self.total_steps - max(0, ceiling_left - left)

    def _features(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        """The network's features as fp32. With mixed precision the convolutions run in
        bfloat16 (most of the work); Gram matrices sum H·W products and losses sum
        millions of terms, which bfloat16's 8-bit mantissa would round badly, so every
        feature is cast back before they are formed.

        Autocast is entered only for mixed precision: some backends refuse it even when
        disabled ("unsupported autocast device_type": MPS before PyTorch 2.5, meta)."""
        if self.precision == "mixed":
            with torch.autocast(self.device.type, torch.bfloat16):
                features = self.net(image)
        else:
            features = self.net(image)
        return {layer: feature.float() for layer, feature in features.items()}

    def _initial_image(self, content: torch.Tensor) -> torch.Tensor:
        init = self.settings.init
        if init == "content":
            return content.clone()
        if init == "noise":
            generator = torch.Generator().manual_seed(self.settings.seed)
            noise = torch.rand(content.shape, generator=generator)
            return noise.to(self.device)
        if self._init_source is None:
            raise ValueError(f"init image {init} was not loaded")
        return self._fit(to_tensor(self._init_source))

    def _fit(self, tensor: torch.Tensor) -> torch.Tensor:
        height, width = (
            self.image.shape[-2:] if self.image is not None else self._content.shape[-2:]
        )
        tensor = tensor.to(self.device)
        if tensor.shape[-2:] != (height, width):
            tensor = F.interpolate(tensor, size=(height, width), mode="bicubic",
                                   align_corners=False).clamp(0, 1)  # fmt: skip
        return tensor

    def _tensor(self, image: Image.Image) -> torch.Tensor:
        return to_tensor(image).to(self.device)

    def _blend(self) -> tuple[float, ...]:
        return self.settings.style_blend or (1.0,) * len(self._style_sources)

    def _apply_blend(self) -> None:
        blend = torch.tensor(self._blend(), device=self.device)
        for loss in self._style_losses.values():
            loss.set_blend(blend)

    def _make_optimizer(self, reset: bool) -> None:
        existing = getattr(self, "optimizer", None)
        if existing is not None and not reset:
            set_learning_rate(existing, self.settings.lr)
        else:
            self.optimizer = new_optimizer(self.image, self.settings)

    def _closure(self) -> torch.Tensor:
        self.image.grad = None
        total = self._loss()
        if torch.isfinite(total):
            total.backward()
        return total.detach()

    def _loss(self) -> torch.Tensor:
        settings = self.settings
        features = self._features(self.image)
        content = sum(loss(features[layer]) for layer, loss in self._content_losses.items())
        layer_weights = dict(zip(settings.style_layers, settings.style_layer_weights, strict=True))
        style = sum(
            layer_weights[layer] * loss(features[layer])
            for layer, loss in self._style_losses.items()
        )
        terms = {
            "content": settings.content_weight * content,
            "style": settings.style_weight * style,
            "tv": settings.tv_weight * total_variation(self.image),
        }
        total = terms["content"] + terms["style"] + terms["tv"]
        values = torch.stack([*terms.values(), total]).detach().tolist()  # one device sync
        self._last_terms = dict(zip([*terms, "total"], values, strict=True))
        return total

    def _update_average(self) -> None:
        """Exponential moving average of the iterates: Adam's step-to-step speckle cancels
        out in it, while the picture, which changes slowly, is kept."""
        decay = self.settings.average_decay
        self._average.mul_(decay).add_(self.image.detach(), alpha=1 - decay)
        self._average_steps += 1

    def _watch_progress(self, good: bool, loss: float, message: str) -> str:
        """Restart the optimizer after a few steps without progress; stop a stuck run with
        a clear message rather than let it spin (engine/progress_watch.py)."""
        verdict = self._watch.observe(good, loss, self.image.grad)
        if verdict.stuck:
            self._restore_last_good()
            raise RunStalled(
                f"the run stopped making progress at step {self.iteration + 1} "
                f"({verdict.stuck}, even after restarting the optimizer); "
                "the last good image is kept"
            )
        if verdict.restart:
            self._restore_last_good()
            self._make_optimizer(reset=True)
            return (message + "; " if message else "") + "no progress: optimizer restarted"
        return message

    def _restore_last_good(self) -> None:
        with torch.no_grad():
            self.image.copy_(self._last_good)
        self.image.grad = None

    def _recover_from_out_of_memory(self) -> None:
        # Memory runs out in the forward or backward pass, before any update: the image is
        # still the last good one. Only the optimizer's state may be half made.
        self.image.grad = None
        self._make_optimizer(reset=True)
        release_memory(self.device)

    def _roll_back(self) -> str:
        """Undo a step that produced NaN or inf: back to the last good image, gentler steps."""
        self._restore_last_good()
        lower = self.settings.lr / 2
        self.settings = self.settings.replace(learning_rate=lower)
        self._make_optimizer(reset=True)
        return f"loss became NaN or infinite; rolled back, learning rate lowered to {lower:g}"


def _finite(loss: torch.Tensor, grad: torch.Tensor | None) -> bool:
    return bool(torch.isfinite(loss)) and (grad is None or bool(torch.isfinite(grad).all()))


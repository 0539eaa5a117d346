"""The headless command line: `python main.py stylize ...` and `python main.py weights ...`.

Exit codes: 0 ok; 2 bad arguments or an unusable input (one line on stderr naming the file
and the reason, no traceback); 1 any other failure.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from engine import weights
from engine.device import DEVICE_CHOICES, describe_device, is_out_of_memory, pick_device
from engine.files import write_atomically
from engine.images import ImageError, load_image, save_image
from engine.outputs import OutputError, check_outputs
from engine.run import InputTooSmall, Network, StyleTransfer
from engine.settings import OPTIMIZERS, PRECISIONS, RunSettings, SettingsError
from engine.vgg import PREPROCESSINGS, WeightsError, read_state_dict
from engine.weights_cli import add_weights_commands

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
# Catalogue models by name (engine/models.json), and the architecture of each.
MODEL_ARCH = {spec.name: spec.arch for spec in weights.known_models()}
MODEL_CHOICES = tuple(MODEL_ARCH)


class UsageError(Exception):
    """Bad arguments or an unusable input: exit 2 with this one-line message."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        # argparse would print the whole usage (17 lines) and exit itself; one line is
        # enough to say what is wrong, and --help has the rest.
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="impasto", description="Repaint a photo in the style of a painting.")
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)
    _add_stylize(commands)
    add_weights_commands(commands)
    return parser


def _add_stylize(commands) -> None:
    defaults = RunSettings()
    p = commands.add_parser("stylize", help="repaint CONTENT in the style of STYLE(s)")
    p.add_argument("content", type=Path, help="the photo to repaint")
    p.add_argument("styles", type=Path, nargs="+", metavar="style", help="one or more paintings")
    p.add_argument("-o", "--output", type=Path, required=True, help="result file (.png .jpg ...)")
    p.add_argument("--size", type=int, help=f"longest side of the output (default "
                   f"{defaults.size}, or the last of --scales)")  # fmt: skip
    p.add_argument("--steps", type=int, default=defaults.steps, help="steps at each scale")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default=defaults.optimizer)
    p.add_argument("--learning-rate", type=float, help="default: 1 for lbfgs, 0.02 for adam")
    p.add_argument("--content-weight", type=float, help=f"default {defaults.content_weight:g}")
    p.add_argument("--style-weight", type=float, help=f"default {defaults.style_weight:g}")
    p.add_argument("--tv-weight", type=float, help=f"default {defaults.tv_weight:g}")
    p.add_argument("--content-layers", default=",".join(defaults.content_layers))
    p.add_argument("--style-layers", default=",".join(defaults.style_layers))
    p.add_argument("--style-layer-weights", metavar="relu1_1=1,relu2_1=0.75,...",
                   help="per-layer style weights (layers not named keep weight 1)")  # fmt: skip
    p.add_argument("--style-blend", metavar="3,7", help="one blend weight per style image")
    p.add_argument("--style-scale", type=float, default=defaults.style_scale)
    p.add_argument("--init", default=defaults.init, help="content, noise, or an image file")
    p.add_argument("--seed", type=int, default=defaults.seed)
    p.add_argument("--device", choices=DEVICE_CHOICES, default=defaults.device)
    p.add_argument("--precision", choices=PRECISIONS, default=defaults.precision,
                   help="mixed: the network in bfloat16, faster on recent GPUs")  # fmt: skip
    p.add_argument("--preserve-colors", action="store_true", help="keep the photo's colours")
    p.add_argument("--scales", metavar="256,512", help="coarse-to-fine sizes (last = output)")
    p.add_argument("--pooling", choices=("max", "avg"), default=defaults.pooling)
    p.add_argument("--model", choices=MODEL_CHOICES, default=defaults.model,
                   help="an installed catalogue model (`weights list`)")  # fmt: skip
    p.add_argument("--weights", type=Path, help="VGG weights file (default: the installed model)")
    p.add_argument("--preprocessing", choices=PREPROCESSINGS, default="torchvision",
                   help="pixels as torchvision or caffe (neural-style) weights expect")  # fmt: skip
    p.add_argument("--report", type=Path, help="write settings and per-step losses as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(handler=stylize)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return EXIT_OK
        return args.handler(args)
    except UsageError as error:
        print(f"impasto: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("\nimpasto: interrupted", file=sys.stderr)
        return EXIT_FAILURE


def stylize(args: argparse.Namespace) -> int:
    try:
        settings = _settings_from_args(args)
        check_outputs(*_inputs_and_outputs(args, settings), images=("-o",))
        content = load_image(args.content)
        styles = [load_image(path) for path in args.styles]
        init_image = None
        if settings.init not in ("content", "noise"):
            init_image = load_image(settings.init)
        network = _load_network(args, settings)
        device = pick_device(settings.device)
        run = StyleTransfer(content, styles, settings, network, device, init_image=init_image)
    except (ImageError, WeightsError, InputTooSmall, OutputError, ValueError) as error:
        raise UsageError(_name_input(error, args)) from error
    if run.precision != settings.precision and not args.quiet:
        print(f"impasto: no bfloat16 on {describe_device(device)}; running in fp32",
              file=sys.stderr)  # fmt: skip

    progress = _Progress(enabled=not args.quiet and sys.stderr.isatty(), device=device)
    steps = []
    try:
        while not run.done:
            report = run.step()
            steps.append({"iteration": report.iteration, "scale": report.scale_index,
                          "seconds": round(report.seconds, 4), **report.losses})  # fmt: skip
            if report.message:  # a rollback or a restart: say so, the run goes on
                print(f"impasto: step {report.iteration}: {report.message}", file=sys.stderr)
            progress.show(report)
        progress.finish()
        result = run.result()
    except Exception as error:
        progress.finish()
        if is_out_of_memory(error):
            print(f"impasto: out of memory on {device}; try a smaller --size or --device cpu",
                  file=sys.stderr)  # fmt: skip
        else:
            print(f"impasto: the run failed: {error}", file=sys.stderr)
        return EXIT_FAILURE
    finally:
        run.close()

    embedded = {**settings.to_dict(), "content": str(args.content),
                "styles": [str(p) for p in args.styles]}  # fmt: skip
    try:
        save_image(result, args.output, embedded)
        if args.report:
            report_data = {"settings": embedded, "device": str(device), "steps": steps}
            _write_json(args.report, report_data)
    except (ImageError, OSError) as error:
        print(f"impasto: {error}", file=sys.stderr)
        return EXIT_FAILURE
    if not args.quiet:
        print(f"saved {args.output}", file=sys.stderr)
    return EXIT_OK


def _settings_from_args(args: argparse.Namespace) -> RunSettings:
    style_layers = _names(args.style_layers)
    layer_weights = dict.fromkeys(style_layers, 1.0)
    if args.style_layer_weights:
        for item in _names(args.style_layer_weights):
            layer, sep, value = item.partition("=")
            if not sep or layer not in layer_weights:
                raise UsageError(f"--style-layer-weights: {item!r} is not LAYER=WEIGHT for a "
                                 f"style layer ({', '.join(style_layers)})")  # fmt: skip
            layer_weights[layer] = _number(value, "--style-layer-weights")
    blend = tuple(_number(v, "--style-blend") for v in _names(args.style_blend or ""))
    if blend and len(blend) != len(args.styles):
        raise UsageError(f"--style-blend has {len(blend)} weights for {len(args.styles)} styles")
    scales = tuple(_whole_number(v, "--scales") for v in _names(args.scales or ""))
    size = args.size if args.size is not None else scales[-1] if scales else RunSettings().size
    loss_weights = {"content_weight": args.content_weight, "style_weight": args.style_weight,
                    "tv_weight": args.tv_weight}  # fmt: skip
    given = {name: value for name, value in loss_weights.items() if value is not None}
    try:
        settings = RunSettings(
            model=MODEL_ARCH.get(args.model, args.model),
            pooling=args.pooling,
            content_layers=_names(args.content_layers),
            style_layers=style_layers,
            style_layer_weights=tuple(layer_weights.values()),
            **given,  # the rest keep the defaults, which suit every model (engine/losses.py)
            style_blend=blend,
            style_scale=args.style_scale,
            size=size,
            scales=scales,
            steps=args.steps,
            optimizer=args.optimizer,
            learning_rate=args.learning_rate,
            init=str(args.init),
            seed=args.seed,
            preserve_colors=args.preserve_colors,
            device=args.device,
            precision=args.precision,
        )
    except SettingsError as error:
        # Each problem names its flag: "--style-weight must be a finite number ...".
        raise UsageError("; ".join(f"{_flag(name)} {text}" for name, text in error.problems)
                         ) from None  # fmt: skip
    return settings


def _flag(field: str) -> str:
    """The option that sets a RunSettings field (each is named after its field)."""
    return "--" + field.replace("_", "-")


def _inputs_and_outputs(
    args: argparse.Namespace, settings: RunSettings
) -> tuple[dict[str, Path], dict[str, Path]]:
    """Every file the run reads and every file it writes, by role (for check_outputs)."""
    inputs = {"content image": args.content}
    inputs.update({f"style image {i}": path for i, path in enumerate(args.styles, start=1)})
    if settings.init not in ("content", "noise"):
        inputs["init image"] = Path(settings.init)
    if args.weights is not None:
        inputs["weights file"] = args.weights
    outputs = {"-o": args.output}
    if args.report is not None:
        outputs["--report"] = args.report
    return inputs, outputs


def _load_network(args: argparse.Namespace, settings: RunSettings) -> Network:
    if args.weights is not None:
        state = read_state_dict(args.weights, settings.model)
        return Network(state, settings.model, args.preprocessing)
    name = args.model
    if weights.find_installed(name) is None:
        raise WeightsError(
            f"no {name} weights installed; run `python main.py weights download {name}` "
            f"(or `python main.py weights import FILE`), or pass --weights FILE"
        )
    state, spec = weights.load_installed(name)
    return Network(state, spec.arch, spec.preprocessing)


def _name_input(error: Exception, args: argparse.Namespace) -> str:
    """Prefix run-time size errors with the file they are about."""
    message = str(error)
    if isinstance(error, InputTooSmall):
        if message.startswith("content image"):
            return f"{args.content}: {message}"
        for index, path in enumerate(args.styles, start=1):
            if message.startswith(f"style image {index} "):
                return f"{path}: {message}"
    return message


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _number(text: str, flag: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise UsageError(f"{flag}: {text!r} is not a number") from None


def _whole_number(text: str, flag: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise UsageError(f"{flag}: {text!r} is not a whole number") from None


def _write_json(path: Path, data: dict) -> None:
    write_atomically(path, json.dumps(data, indent=2))


class _Progress:
    """A one-line progress bar on a terminal: iteration, losses, it/s."""

    def __init__(self, enabled: bool, device) -> None:
        self.enabled, self.started, self.shown = enabled, time.perf_counter(), False
        if enabled:
            print(f"running on {describe_device(device)}", file=sys.stderr)

    def show(self, report) -> None:
        if not self.enabled:
            return
        done = report.iteration / report.total_steps
        bar = "#" * int(done * 24)
        rate = report.iteration / max(report.seconds, 1e-9)
        losses = report.losses
        line = (f"\r[{bar:<24}] {report.iteration}/{report.total_steps} "
                f"content {losses['content']:.3g} style {losses['style']:.3g} "
                f"tv {losses['tv']:.3g}  {rate:.2f} it/s ")  # fmt: skip
        sys.stderr.write(line)
        sys.stderr.flush()
        self.shown = True

    def finish(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
            self.shown = False

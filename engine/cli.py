"""The headless command line: `python main.py stylize ...` and `python main.py weights ...`.

Exit codes: 0 ok; 2 bad arguments or an unusable input (one line on stderr naming the file
and the reason, no traceback); 1 any other failure.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from engine import catalogue, weights_store
from engine.batch_cli import add_batch_command
from engine.device import describe_device, is_out_of_memory, pick_device
from engine.files import resolved, write_atomically
from engine.images import ImageError, keep_unsaved, load_image, save_image
from engine.model_choice import installed_model
from engine.outputs import OutputError, check_outputs
from engine.presets import PresetError, load_preset, preset_names
from engine.region_files import RegionArgs, parse_region, picture_record, regions_from_args
from engine.regions import MAX_REGIONS
from engine.run import InputTooSmall, Network, StyleTransfer
from engine.settings import SPECS, RunSettings, Setting, SettingsError, with_size
from engine.terminal import ProgressLine, bar
from engine.version import __version__
from engine.vgg import PREPROCESSINGS, WeightsError, read_state_dict
from engine.weights_cli import add_weights_commands

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
COMMANDS = ("stylize", "batch", "weights")
# Catalogue models by name (engine/models.json), and the architecture of each.
MODEL_ARCH = {spec.name: spec.arch for spec in catalogue.known_models()}
MODEL_CHOICES = tuple(MODEL_ARCH)
# Set by catalogue name (--model), which also picks the weights, not by architecture.
CATALOGUE_FIELDS = ("model",)


class UsageError(Exception):
    """Bad arguments or an unusable input: exit 2 with this one-line message."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        # argparse would print the whole usage (17 lines) and exit itself; one line is
        # enough to say what is wrong, and --help has the rest.
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="impasto", description="Repaint a photo in the style of a painting.")
    parser.add_argument("--version", action="version", version=f"impasto {__version__}")
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)
    _add_stylize(commands)
    add_batch_command(commands)
    add_weights_commands(commands)
    return parser


def _add_stylize(commands) -> None:
    p = commands.add_parser("stylize", help="repaint CONTENT in the style of STYLE(s)")
    p.add_argument("content", type=Path, help="the photo to repaint")
    p.add_argument("styles", type=Path, nargs="*", metavar="style",
                   help="paintings (with --region: for what no mask covers)")  # fmt: skip
    p.add_argument("-o", "--output", type=Path, required=True, help="result file (.png .jpg ...)")
    presets = ", ".join(preset_names())
    p.add_argument("--preset", metavar="NAME|FILE", help=f"start from a preset ({presets}) "
                   "or a saved preset file; the options below change it")  # fmt: skip
    p.add_argument("--model", choices=MODEL_CHOICES, help="an installed catalogue model "
                   "(`weights list`); default: the one for the settings' network")  # fmt: skip
    p.add_argument("--weights", type=Path, help="VGG weights file (default: the installed model)")
    p.add_argument("--preprocessing", choices=PREPROCESSINGS,
                   help="pixels as torchvision or caffe (neural-style) weights expect; with "
                   "--model's network, picks the installed model that has it (default: the "
                   "installed one; torchvision for --weights)")  # fmt: skip
    p.add_argument("--report", type=Path, help="write settings and per-step losses as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.add_argument("--region", action="append", default=[], metavar="MASK=STYLE[,STYLE]",
                   help="paint the mask's white (grey: a soft edge) with these paintings "
                   "(STYLE@STYLE_MASK: the style of that part of the painting); "
                   f"repeatable, up to {MAX_REGIONS} masks")  # fmt: skip
    p.add_argument("--keep", action="append", default=[], type=Path, metavar="MASK",
                   help="keep the photo where the mask is white (no style there)")
    p.add_argument("--keep-weight", type=float, default=1.0, metavar="X",
                   help="the content weight is multiplied by X in --keep masks (1 to 100)")
    settings = p.add_argument_group("run settings (the window's, and presets')")
    defaults = RunSettings()
    for name, spec in SPECS.items():
        if name not in CATALOGUE_FIELDS:
            _add_setting_option(settings, name, spec, getattr(defaults, name))
    p.set_defaults(handler=stylize)


def _add_setting_option(group, name: str, spec: Setting, default) -> None:
    """One option for one RunSettings field, from its declaration. No argparse default:
    an option not given leaves the preset's (or the default) value in force; `default`
    is only shown in the help."""
    if isinstance(default, bool):
        shown = "on" if default else "off"
    else:
        shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
    help_text = spec.help + (f" (default: {shown})" if shown not in ("", None) else "")
    options = {"default": argparse.SUPPRESS, "help": help_text.replace("%", "%%")}
    kind = spec.rule.kind
    if kind == "bool":
        options["action"] = argparse.BooleanOptionalAction
    elif spec.choices:
        options["metavar"] = "{" + ",".join(value for value, _ in spec.choices) + "}"
        if name == "init":
            options["metavar"] += "|FILE"
    elif kind == "list":
        options["metavar"] = {"int": "N,N", "number": "X,X"}.get(spec.items, "NAME,NAME")
        if name == "style_layer_weights":
            options["metavar"] = "X,X|LAYER=X,LAYER=X"
    else:
        options["metavar"] = "N" if kind == "int" else "X"
        options["type"] = int if kind == "int" else float
    group.add_argument(_flag(name), **options)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        _check_option_order(sys.argv[1:] if argv is None else argv)
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


def _check_option_order(argv: list[str]) -> None:
    """`impasto --quiet stylize ...`: say where the option goes, not only that it is unknown."""
    first = argv[0] if argv else ""
    command = next((word for word in argv if word in COMMANDS), None)
    if first.startswith("-") and first not in ("-h", "--help", "--version") and command:
        raise UsageError(f"{first} goes after the command: `impasto {command} {first} ...`")


def stylize(args: argparse.Namespace) -> int:
    try:
        plain_styles, args.styles = args.styles, _all_styles(args)
        settings = _settings_from_args(args)
        check_outputs(*_inputs_and_outputs(args, settings), images=("-o",))
        content = load_image(args.content)
        regions = _regions(args, plain_styles, content.size)
        styles = [load_image(path) for path in args.styles]
        init_image = None
        if settings.init not in ("content", "noise"):
            init_image = load_image(settings.init)
        network = _load_network(args, settings)
        device = pick_device(settings.device)
        run = StyleTransfer(content, styles, settings, network, device, init_image=init_image,
                            regions=regions.regions if regions else ())  # fmt: skip
    except (ImageError, WeightsError, InputTooSmall, OutputError, ValueError) as error:
        if isinstance(error, InputTooSmall):  # lead with the file it is about
            raise UsageError(error.naming(args.content, args.styles)) from error
        raise UsageError(str(error)) from error
    if settings.precision == "mixed" and run.precision != "mixed" and not args.quiet:
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

    embedded = {**settings.to_dict(), "preprocessing": network.preprocessing,
                "content": str(args.content),
                "styles": [str(p) for p in args.styles]}  # fmt: skip
    if regions:
        embedded["regions"] = picture_record(regions)
    try:
        save_image(result, args.output, embedded)
    except (ImageError, OSError) as error:
        kept = keep_unsaved(result, args.output, embedded)
        where = f"the picture is kept as {kept}" if kept else "the picture could not be kept"
        print(f"impasto: {error}; {where}", file=sys.stderr)
        return EXIT_FAILURE
    try:
        if args.report:
            report_data = {"settings": embedded, "device": str(device), "steps": steps}
            _write_json(args.report, report_data)
    except (ImageError, OSError) as error:
        print(f"impasto: {error}", file=sys.stderr)
        return EXIT_FAILURE
    if not args.quiet:
        print(f"saved {args.output}", file=sys.stderr)
    return EXIT_OK


def _all_styles(args: argparse.Namespace) -> list[Path]:
    """The plain paintings, then those --region names: the run's style images, in the
    order --style-blend weighs them."""
    styles = list(args.styles)
    seen = {resolved(path) for path in styles}
    for text in args.region:
        for path in parse_region(text).paintings:
            if resolved(path) not in seen:
                seen.add(resolved(path))
                styles.append(path)
    if not styles:
        raise UsageError("give at least one painting, or --region MASK=PAINTING")
    return styles


def _regions(args: argparse.Namespace, plain_styles: list[Path],
             content_size: tuple[int, int]) -> RegionArgs | None:  # fmt: skip
    """Read --region and --keep masks (engine/region_files.py)."""
    if not args.region and not args.keep:
        return None
    regions = regions_from_args(plain_styles, args.region, args.keep, content_size,
                                args.keep_weight)  # fmt: skip
    for note in regions.notes if not args.quiet else ():
        print(f"impasto: {note}", file=sys.stderr)
    return regions


def _settings_from_args(args: argparse.Namespace) -> RunSettings:
    """The defaults, then the preset, then each option given, in that order."""
    given = {name: getattr(args, name) for name in SPECS
             if hasattr(args, name) and name not in CATALOGUE_FIELDS}  # fmt: skip
    for name, value in given.items():
        if SPECS[name].rule.kind == "list" and name != "style_layer_weights":
            given[name] = _list(value, name, SPECS[name].items)
    settings = _preset(args.preset) if args.preset else RunSettings()
    if args.model is not None:
        settings = settings.replace(model=MODEL_ARCH[args.model])
    if "style_layer_weights" in given:
        layers = given.get("style_layers", settings.style_layers)
        given["style_layer_weights"] = _layer_weights(given["style_layer_weights"], layers)
    elif len(given.get("style_layers", settings.style_layers)) != len(settings.style_layers):
        given["style_layer_weights"] = (1.0,) * len(given["style_layers"])
    blend = given.get("style_blend", settings.style_blend)
    if blend and len(blend) != len(args.styles):
        raise UsageError(f"--style-blend has {len(blend)} weights for {len(args.styles)} styles")
    if "size" not in given and given.get("scales"):
        given["size"] = given["scales"][-1]
    try:
        if "size" in given:
            # A preset's coarse-to-fine ladder follows the size, unless --scales is given.
            settings = with_size(settings, given["size"])
        return settings.replace(**given)
    except SettingsError as error:
        # Each problem names its flag: "--style-weight must be a finite number ...".
        raise UsageError("; ".join(f"{_flag(name)} {text}" for name, text in error.problems)
                         ) from None  # fmt: skip


def _preset(name_or_file: str) -> RunSettings:
    try:
        return load_preset(name_or_file)
    except PresetError as error:
        raise UsageError(f"--preset: {error}") from None


def _list(text: str, name: str, items: str) -> tuple:
    parse = {"int": _whole_number, "number": _number}.get(items, lambda part, flag: part)
    return tuple(parse(part, _flag(name)) for part in _names(text))


def _layer_weights(text: str, layers: tuple[str, ...]) -> tuple[float, ...]:
    """Either one number per style layer, or LAYER=WEIGHT items (layers not named keep 1)."""
    if "=" not in text:
        return _list(text, "style_layer_weights", "number")
    weights = dict.fromkeys(layers, 1.0)
    for item in _names(text):
        layer, sep, value = item.partition("=")
        if not sep or layer not in weights:
            raise UsageError(f"--style-layer-weights: {item!r} is not LAYER=WEIGHT for a "
                             f"style layer ({', '.join(layers)})")  # fmt: skip
        weights[layer] = _number(value, "--style-layer-weights")
    return tuple(weights.values())


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
    masks = [parse_region(text).mask for text in args.region] + list(args.keep)
    masks += [path for text in args.region for path in parse_region(text).painting_masks if path]
    inputs.update({f"mask {i}": path for i, path in enumerate(masks, start=1)})
    if args.preset is not None and args.preset not in preset_names():
        inputs["preset"] = Path(args.preset)
    weights = args.weights if args.weights is not None else _installed_weights(args, settings)
    if weights is not None:
        inputs["weights file"] = weights
    outputs = {"-o": args.output}
    if args.report is not None:
        outputs["--report"] = args.report
    return inputs, outputs


def _installed_weights(args: argparse.Namespace, settings: RunSettings) -> Path | None:
    try:
        installed = weights_store.find_installed(_model_name(args, settings))
    except WeightsError:  # not installed, or broken: reported where the weights are read
        return None
    return installed.path if installed is not None else None


def _load_network(args: argparse.Namespace, settings: RunSettings) -> Network:
    if args.weights is not None:
        state = read_state_dict(args.weights, settings.model)
        return Network(state, settings.model, args.preprocessing or "torchvision")
    state, spec = weights_store.load_installed(_model_name(args, settings))
    return Network(state, spec.arch, spec.preprocessing)


def _model_name(args: argparse.Namespace, settings: RunSettings) -> str:
    """The installed catalogue model for the settings' network and the preprocessing asked
    for: --preprocessing, else --model's own, else whichever is installed."""
    preprocessing = args.preprocessing
    if preprocessing is None and args.model is not None:
        preprocessing = catalogue.model_spec(args.model).preprocessing
    return installed_model(settings.model, preprocessing)


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
    """The run's progress line on a terminal: steps, losses, steps per second."""

    def __init__(self, enabled: bool, device) -> None:
        self.line = ProgressLine(sys.stderr, enabled)
        if enabled:
            print(f"running on {describe_device(device)}", file=sys.stderr)

    def show(self, report) -> None:
        rate = report.iteration / max(report.seconds, 1e-9)
        losses = report.losses
        self.line.draw(
            f"{bar(report.iteration / report.total_steps, 24)} "
            f"{report.iteration}/{report.total_steps} "
            f"content {losses['content']:.3g} style {losses['style']:.3g} "
            f"tv {losses['tv']:.3g}  {rate:.2f} it/s",
            force=report.iteration == report.total_steps,
        )

    def finish(self) -> None:
        self.line.finish()

"""The `batch` command: render a grid or list of runs (a spec file), or a saved session at
another size, on this machine (--local) or on a Ray cluster (--ray).

Exit codes: 0 every run done; 1 a run failed or the batch was cancelled (the index says
which, with each error); 2 bad input (one line on stderr). No tracebacks.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from engine.batch import (
    LocalRunner,
    Progress,
    RunRecord,
    check_output_folder,
    describe_failure,
    run_batch,
)
from engine.batch_inputs import BatchError, read_inputs, read_weights
from engine.batch_spec import BatchSpec, BatchSpecError, expand, load_spec
from engine.terminal import ProgressLine
from engine.vgg import PREPROCESSINGS, WeightsError

OK, FAILED, BAD_INPUT = 0, 1, 2


def add_batch_command(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "batch", help="render variations (a spec's grid or list of runs), here or on Ray",
        description="Render every run of SPEC (JSON, or TOML on Python 3.11+): images with "
        "their settings, a contact sheet and index.json in the output folder, each saved as "
        "its run finishes. Or render a saved session at another size (--from-session).",
    )  # fmt: skip
    parser.add_argument("spec", type=Path, nargs="?", help="the batch spec (.json or .toml)")
    parser.add_argument("-o", "--output", type=Path, help="output folder (default: the spec's "
                        "`output`)")  # fmt: skip
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--local", action="store_true", help="run here, one after another, "
                       "without Ray (the default)")  # fmt: skip
    where.add_argument("--ray", metavar="auto|ADDRESS|local", help="run each as a Ray task: "
                       "auto (this machine's cluster or RAY_ADDRESS), HOST:PORT of a head, or "
                       "local (a private cluster here); needs impasto[cluster]")  # fmt: skip
    session = parser.add_argument_group("render a session at another size")
    session.add_argument("--from-session", type=Path, metavar="FOLDER", help="a saved session: "
                         "its inputs, settings and current picture, continued coarse to fine "
                         "up to --size")  # fmt: skip
    session.add_argument("--size", type=int, metavar="N", help="the longest side to render at")
    session.add_argument("--steps", type=int, metavar="N", help="steps at each new scale")
    parser.add_argument("--weights", type=Path, help="VGG weights file (default: the spec's "
                        "`weights`, else the installed model)")  # fmt: skip
    parser.add_argument("--preprocessing", choices=PREPROCESSINGS,
                        help="how --weights expects pixels (default: torchvision)")  # fmt: skip
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    parser.set_defaults(handler=handle_batch_command)
    return parser


def handle_batch_command(args: argparse.Namespace) -> int:
    try:
        spec = _spec(args)
        folder = args.output or spec.output
        if folder is None:
            raise BatchError("no output folder: give -o DIR, or `output` in the spec")
        inputs, weights = read_inputs(spec), read_weights(spec)
        connected = _connect(args.ray) if args.ray else False
        check_output_folder(spec, folder)
    except (BatchSpecError, BatchError, WeightsError) as error:
        return _bad_input(error)
    except RuntimeError as error:  # ClusterError: Ray missing or its cluster unreachable
        return _bad_input(error)
    show = _ProgressLine(enabled=not args.quiet, tty=sys.stderr.isatty())
    try:
        result = run_batch(spec, _runner(args.ray, weights, inputs), folder, on_progress=show)
    except Exception as error:  # the output disk filled up, the cluster went away, ...
        show.finish()
        print(f"impasto: the batch failed: {describe_failure(error)}", file=sys.stderr)
        return FAILED
    finally:
        if connected:
            from engine.cluster import disconnect

            disconnect()
    show.finish()
    for record in result.records:
        if record.status == "failed":
            print(f"impasto: {record.job.name} failed after {record.attempts} attempts: "
                  f"{record.error}", file=sys.stderr)  # fmt: skip
    if not args.quiet or result.cancelled:
        cancelled = f", {result.count('cancelled')} cancelled" if result.cancelled else ""
        print(f"{result.count('done')} done, {result.count('failed')} failed{cancelled}: "
              f"{result.index}, {result.sheet}", file=sys.stderr)  # fmt: skip
    return OK if result.count("done") == len(result.records) else FAILED


def _spec(args: argparse.Namespace) -> BatchSpec:
    if args.from_session is not None:
        if args.spec is not None:
            raise BatchError("give a spec or --from-session, not both")
        if args.size is None:
            raise BatchError("--from-session needs --size N (the size to render at)")
        data = {"session": str(args.from_session), "size": args.size}
        if args.steps is not None:
            data["steps"] = args.steps
        spec = expand(data, Path("."), "--from-session")
    elif args.spec is None:
        raise BatchError("give a spec file (or --from-session FOLDER --size N)")
    elif args.size is not None or args.steps is not None:
        raise BatchError("--size and --steps go with --from-session; a spec sets its own")
    else:
        spec = load_spec(args.spec)
    if args.weights is not None:
        spec = dataclasses.replace(spec, weights=args.weights)
    if args.preprocessing is not None:
        spec = dataclasses.replace(spec, preprocessing=args.preprocessing)
    return spec


def _connect(address: str) -> bool:
    from engine.cluster import connect

    return connect(address)


def _runner(address: str | None, weights, inputs):
    if address is None:
        return LocalRunner(weights, inputs)
    from engine.cluster import RayRunner

    return RayRunner(weights, inputs)


def _bad_input(error: Exception) -> int:
    print(f"impasto: error: {error}", file=sys.stderr)
    return BAD_INPUT


class _ProgressLine:
    """The batch's progress on stderr: one line redrawn on a terminal (engine/terminal.py),
    one line per finished run elsewhere (a log)."""

    def __init__(self, enabled: bool, tty: bool) -> None:
        self.enabled, self.tty = enabled, tty
        self.line = ProgressLine(enabled=enabled and tty)

    def __call__(self, progress: Progress, record: RunRecord | None) -> None:
        if self.tty:
            self.line.draw(progress.line, force=True)  # a few events a run: draw each
        elif self.enabled and record is not None:
            what = f"{record.job.name} {record.status}"
            if record.job.differs:
                what += f" ({record.job.label})"
            print(f"{what}; {progress.line}", file=sys.stderr, flush=True)

    def finish(self) -> None:
        self.line.finish()

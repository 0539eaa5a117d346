"""The `weights` command: list, download, import and verify model weights.

Exit codes: 0 done, 2 bad input (one-line message), 1 any other failure. No tracebacks.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TextIO

from engine import paths
from engine.catalogue import default_model_name, how_to_install, known_models, model_spec
from engine.model_choice import import_as
from engine.terminal import ProgressLine, bar
from engine.vgg import WeightsError
from engine.weights_download import DownloadCancelled, ProgressInfo, check_url, download
from engine.weights_store import (
    InstallError,
    find_cached_torchvision_files,
    find_installed,
    verify,
)

OK, FAILED, BAD_INPUT = 0, 1, 2


def add_weights_commands(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register `weights list|download|import|verify`; the handler is set as `args.handler`."""
    names = [spec.name for spec in known_models()]
    parser = subparsers.add_parser(
        "weights",
        help="list, download, import or verify the VGG weights",
        description="Manage the ImageNet VGG weights Impasto needs (fetched once, then offline).",
    )
    actions = parser.add_subparsers(dest="weights_action", metavar="ACTION", required=True)
    actions.add_parser("list", help="known models, which are installed, where, sizes")

    download = actions.add_parser("download", help="download a model (needs internet once)")
    download.add_argument("name", nargs="?", choices=names, metavar="NAME", help=" | ".join(names))
    download.add_argument("--url", help="download from this mirror (the hash must still match)")
    download.add_argument(
        "--no-cache",
        action="store_true",
        help="download even if the torch cache already holds the file",
    )

    import_ = actions.add_parser("import", help="install a .pth file you already have")
    import_.add_argument("file", metavar="FILE")
    import_.add_argument("--as", dest="name", choices=names, metavar="NAME", help=" | ".join(names))

    verify = actions.add_parser("verify", help="check installed models against their hashes")
    verify.add_argument("name", nargs="?", choices=names, metavar="NAME")

    parser.set_defaults(handler=handle_weights_command)
    return parser


def handle_weights_command(args: argparse.Namespace) -> int:
    commands = {
        "list": _list,
        "download": _download,
        "import": _import,
        "verify": _verify,
    }
    return commands[args.weights_action](args)


def _list(args: argparse.Namespace) -> int:
    folder = paths.models_folder()
    origin = f" (from {paths.MODELS_DIR_ENV})" if os.environ.get(paths.MODELS_DIR_ENV) else ""
    print(f"Models folder: {folder}{origin}")
    print(f"Bundled folder: {paths.bundled_models_folder()}")
    default = default_model_name()
    for spec in known_models():
        label = f"{spec.name}{' (default)' if spec.name == default else ''}"
        try:
            installed = find_installed(spec.name)
        except WeightsError as error:
            print(f"  {label:<20} broken     {error}")
            continue
        if installed is None:
            about = "" if spec.size_is_exact else "about "
            size = about + _mib(spec.download_size)
            print(f"  {label:<20} -          {spec.title}; download {size}")
        else:
            print(f"  {label:<20} installed  {_mib(installed.size):>9}  {installed.path}")
    for spec, path in find_cached_torchvision_files():
        if find_installed(spec.name) is None:
            print(f"Found {spec.name} in the torch cache: python main.py weights import {path}")
    return OK


def _download(args: argparse.Namespace) -> int:
    name = args.name or default_model_name()
    try:
        if args.url is not None:
            check_url(args.url)
    except WeightsError as error:
        print(f"error: {error}", file=sys.stderr)
        return BAD_INPUT
    try:
        installed = find_installed(name)
    except WeightsError:
        installed = None  # a broken install is replaced by the download
    if installed is not None:
        print(f"{name} is already installed: {installed.path} (delete it to download again)")
        return OK
    if not args.no_cache and args.url is None:
        cached = dict(find_cached_torchvision_files())
        spec = model_spec(name)
        if spec in cached:
            print(
                f"Using {cached[spec]} from the torch cache (no download needed).", file=sys.stderr
            )
            return _install_from_file(cached[spec], name, failure=FAILED)
    bar = ProgressBar(name, sys.stderr)
    try:
        installed = download(name, progress=bar, url=args.url)
    except (DownloadCancelled, KeyboardInterrupt):
        bar.finish()
        print("Download interrupted; run the same command again to resume.", file=sys.stderr)
        return FAILED
    except WeightsError as error:
        bar.finish()
        print(f"error: {error}", file=sys.stderr)
        return FAILED
    bar.finish()
    print(f"Installed {name}: {installed.path} ({_mib(installed.size)})")
    return OK


def _import(args: argparse.Namespace) -> int:
    return _install_from_file(args.file, args.name, failure=BAD_INPUT)


def _install_from_file(path: object, name: str | None, failure: int) -> int:
    try:
        installed = import_as(path, name)
    except WeightsError as error:
        print(f"error: {error}", file=sys.stderr)
        # A file that was read but could not be stored is not bad input: the disk failed.
        return FAILED if isinstance(error, InstallError) else failure
    note = "" if installed.is_published_file else " (not the published file; hash differs)"
    print(f"Installed {installed.spec.name}: {installed.path} ({_mib(installed.size)}){note}")
    return OK


def _verify(args: argparse.Namespace) -> int:
    names = [args.name] if args.name else [spec.name for spec in known_models()]
    checked, failed = 0, 0
    for name in names:
        try:
            if find_installed(name) is None:
                if args.name:
                    print(f"error: {how_to_install(name)}", file=sys.stderr)
                    return FAILED
                continue
            installed = verify(name)
        except WeightsError as error:
            print(f"FAILED {name}: {error}")
            checked, failed = checked + 1, failed + 1
            continue
        print(f"ok     {name}: {installed.path} (sha256 {installed.sha256[:16]}...)")
        checked += 1
    if checked == 0:
        print(f"error: {how_to_install(default_model_name())}", file=sys.stderr)
        return FAILED
    return FAILED if failed else OK


class ProgressBar:
    """The download's progress line: redrawn at most ten times a second, and at the end."""

    def __init__(self, label: str, stream: TextIO, width: int = 30):
        self.label, self.width = label, width
        self.line = ProgressLine(stream)

    def __call__(self, info: ProgressInfo) -> None:
        # A file:///dev/zero says its size is 0: "done" only once there is a size to reach.
        complete = bool(info.bytes_total) and info.bytes_done >= info.bytes_total
        self.line.draw(format_progress(self.label, info, self.width), force=complete)

    def finish(self) -> None:
        self.line.finish()


def format_progress(label: str, info: ProgressInfo, width: int = 30) -> str:
    speed = f"{info.bytes_per_second / 2**20:.1f} MiB/s"
    if info.fraction is None:
        return f"{label} {_mib(info.bytes_done)} {speed}"
    sizes = f"{info.bytes_done / 2**20:.1f}/{info.bytes_total / 2**20:.1f} MiB"
    return f"{label} {bar(info.fraction, width)} {info.fraction:4.0%} {sizes} {speed}"


def _mib(size: int) -> str:
    return f"{size / 2**20:.1f} MiB"

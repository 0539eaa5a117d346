"""Impasto: `python main.py` opens the window; `main.py stylize|batch|weights` run headless."""

import logging
import sys

# torch before PySide6: the other order has caused DLL/initialisation failures.
import torch  # noqa: F401


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # Diagnostics from engine/ and gui/ (logging.getLogger(__name__)) go to stderr; what a
    # command reports to its user (the CLI, --selftest) it prints. A no-op if already set up.
    logging.basicConfig(level=logging.WARNING, format="impasto: %(name)s: %(message)s")
    from engine.device import configure_threads

    configure_threads()
    if argv == ["--selftest"]:
        from gui.selftest import run_selftest

        return run_selftest()
    if argv:  # only no arguments open the window: a mistyped command is the CLI's error
        from engine.cli import main as cli_main

        return cli_main(argv)
    try:
        from gui.app import run_app
    except ImportError as error:
        print(f"impasto: the window cannot start ({error})", file=sys.stderr)
        return 1
    return run_app([sys.argv[0]])


if __name__ == "__main__":
    sys.exit(main())

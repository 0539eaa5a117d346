"""One version, written once in engine/version.py."""

import re
from pathlib import Path

from engine.version import __version__

ROOT = Path(__file__).resolve().parent.parent


def test_the_version_line_is_what_the_windows_installer_reads():
    # installer/windows/impasto.iss cannot run Python: it takes characters 16 to the last
    # but one of the file's first line as the version.
    line = (ROOT / "engine" / "version.py").read_text().splitlines()[0]
    assert re.fullmatch(r'__version__ = "\d+\.\d+\.\d+"', line)
    assert line[15:-1] == __version__

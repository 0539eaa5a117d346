"""dev.py: before `dev.py app` starts Qt, missing xcb libraries are named with the command
that installs them, instead of Qt's plugin error."""

from __future__ import annotations

import dev

X11 = {"DISPLAY": ":0"}
INSTALL = "sudo apt-get install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1"


def finder(absent: set[str]):
    return lambda name: None if name in absent else f"lib{name}.so.0"


def test_missing_xcb_libraries_are_named_with_the_install_command(capsys):
    probe = {"find_library": finder({"xcb-cursor", "xcb-keysyms"}), "platform": "linux",
             "environ": X11}  # fmt: skip
    assert dev.missing_xcb_libraries(**probe) == ["libxcb-cursor0", "libxcb-keysyms1"]
    assert dev.check_qt_libraries(**probe) is False
    err = capsys.readouterr().err
    assert INSTALL in err and "libxcb-cursor0, libxcb-keysyms1" in err


def test_nothing_is_said_when_the_libraries_are_there_or_xcb_is_not_used(capsys):
    none_found = finder({"xcb-cursor", "xcb-icccm", "xcb-keysyms"})
    assert dev.check_qt_libraries(find_library=finder(set()), platform="linux", environ=X11)
    assert dev.check_qt_libraries(find_library=none_found, platform="linux",
                                  environ={**X11, "QT_QPA_PLATFORM": "xcb"}) is False  # fmt: skip
    capsys.readouterr()
    for platform, environ in (("linux", {}),  # no X display: no xcb
                              ("linux", {**X11, "QT_QPA_PLATFORM": "wayland"}),
                              ("linux", {**X11, "QT_QPA_PLATFORM": "offscreen"}),
                              ("darwin", X11), ("win32", X11)):  # fmt: skip
        assert dev.check_qt_libraries(find_library=none_found, platform=platform, environ=environ)
    assert capsys.readouterr().err == ""


def test_dev_app_stops_before_launching_when_libraries_are_missing(monkeypatch):
    done: list[str] = []
    monkeypatch.setattr(dev, "missing_xcb_libraries", lambda **_: ["libxcb-cursor0"])
    monkeypatch.setattr(dev, "setup", lambda: done.append("setup"))
    monkeypatch.setattr(dev.subprocess, "call", lambda *_, **__: done.append("launch") or 0)
    monkeypatch.setattr(dev.sys, "argv", ["dev.py", "app"])
    assert dev.main() == 1 and done == []

"""Autosave and restore (issue 7): a session is written off the GUI thread after each
snapshot, offered at the next launch, set aside when damaged, and discarded on a clean
close. Corrupt preferences are reset with a word in the window."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from PIL import Image
from PySide6.QtCore import Qt

from engine.paths import autosave_folder, preferences_folder
from engine.session import Session, load_session, save_session
from gui.app import create_window
from gui.preferences import FILE_NAME
from gui.state import GUI_DEFAULTS
from tests.conftest import RANDOM_NET_STYLE_WEIGHT
from tests.gui.conftest import drop_files

WAIT_MS = 60_000


def open_window(qtbot, network):
    window = create_window(lambda: network)
    qtbot.addWidget(window)
    window.resize(1200, 800)
    window.show()
    return window


def test_autosave_follows_each_snapshot_and_a_close_keeps_it(window, qtbot, images):
    state = window.state
    assert drop_files(window.content_pane, [images["photo"]])
    assert drop_files(window.style_pane, [images["painting"]])
    state.set_settings(snapshot_every=3)
    state.start()
    qtbot.waitUntil(lambda: state.autosaver.saves >= 1, timeout=WAIT_MS)
    state.toggle_pause()
    qtbot.waitUntil(lambda: state.status == "paused", timeout=WAIT_MS)
    assert state.autosaver.wait()
    session = load_session()
    assert session is not None
    assert session.iteration >= 3 and session.iteration % 3 == 0  # written after a snapshot
    assert session.iteration in [n for n, _ in session.snapshots]
    assert session.content_label == "photo.png" and session.style_labels == ["painting.jpg"]
    assert session.content.size == (96, 72) and session.latest.size == (64, 48)
    assert session.settings.size == 64 and session.settings.snapshot_every == 3

    window.close()  # a close keeps the session for the next launch (issue 12)
    assert load_session().iteration >= session.iteration


def make_session(images, iteration=12) -> Session:
    rng = np.random.default_rng(1)
    latest = Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8), "RGB")
    snap = Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8), "RGB")
    photo = Image.open(images["photo"]).convert("RGB")
    painting = Image.open(images["painting"]).convert("RGB")

    settings = GUI_DEFAULTS.replace(size=64, steps=3, scales=(), style_blend=(0.7,),
                                    style_weight=RANDOM_NET_STYLE_WEIGHT,
                                    padding="reflect")  # fmt: skip
    return Session(settings, photo, [painting], "holiday.png", ["starry.jpg"], iteration,
                   latest, [(iteration - 4, snap), (iteration, latest)])  # fmt: skip


def test_a_new_window_offers_the_autosave_and_restores_it(qtbot, random_network, images):
    session = make_session(images)
    save_session(session)
    window = open_window(qtbot, random_network)
    bar, state = window.restore_bar, window.state
    assert bar.isVisible()
    assert "Restore the session from" in bar.text.text() and "(step 12)" in bar.text.text()
    assert state.content is None  # nothing is restored before the user says so

    qtbot.mouseClick(bar.restore, Qt.MouseButton.LeftButton)
    assert not bar.isVisible()
    assert state.content.label == "holiday.png" and state.content.image.size == (96, 72)
    assert [s.label for s in state.styles] == ["starry.jpg"] and state.style_weights() == (0.7,)
    # The blend is an ordinary setting now, restored with the rest (issue 13).
    assert state.settings.padding == "reflect" and state.settings.style_blend == (0.7,)
    assert window.controls.padding.currentData() == "reflect"
    assert [s.iteration for s in state.snapshots] == [8, 12]
    assert window.snapshots.count() == 2
    assert np.array_equal(state.frame, np.asarray(session.latest))  # the latest image shows
    shown = window.canvas.pixmap.toImage()
    assert shown.width() == 64 and shown.pixelColor(5, 7).getRgb()[:3] == session.latest.getpixel(
        (5, 7)
    )
    assert "96 × 72 px" in window.content_pane.caption.text()

    # Start goes on from the restored image (not from the photo).
    assert window.run_panel.start.isEnabled()
    qtbot.mouseClick(window.run_panel.start, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: state.status == "idle", timeout=WAIT_MS)
    assert state.run_settings.init == "snapshot" and state.report.iteration == 3
    window.close()


def test_a_session_left_by_a_crash_between_the_renames_is_offered(qtbot, random_network, images):
    # save_session died between its two renames: no autosave folder, but complete copies of
    # the previous session (.old) and the new one (.new) beside it.
    folder = autosave_folder()
    save_session(make_session(images, iteration=8), folder.with_name("older"))
    folder.with_name("older").rename(folder.with_name("autosave.old"))
    save_session(make_session(images), folder.with_name("newer"))
    folder.with_name("newer").rename(folder.with_name("autosave.new"))
    window = open_window(qtbot, random_network)
    assert window.restore_bar.isVisible() and "(step 12)" in window.restore_bar.text.text()
    qtbot.mouseClick(window.restore_bar.restore, Qt.MouseButton.LeftButton)
    assert window.state.content.label == "holiday.png"
    window.close()


def test_discarding_the_offer_removes_the_autosave(qtbot, random_network, images):
    save_session(make_session(images))
    window = open_window(qtbot, random_network)
    qtbot.mouseClick(window.restore_bar.discard, Qt.MouseButton.LeftButton)
    assert not window.restore_bar.isVisible() and window.state.content is None
    assert not autosave_folder().exists()
    window.close()


def test_an_unanswered_offer_is_kept_for_the_next_launch(qtbot, random_network, images):
    save_session(make_session(images))
    window = open_window(qtbot, random_network)
    assert window.restore_bar.isVisible()
    window.close()
    assert load_session() is not None


def test_a_damaged_session_is_set_aside_and_the_window_works(qtbot, random_network, images):
    save_session(make_session(images))
    folder = autosave_folder()
    (folder / "latest.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    window = open_window(qtbot, random_network)
    assert not window.restore_bar.isVisible()
    assert window.messages.isVisible()
    text = window.messages.text.text()
    assert "could not be read and was set aside" in text and "latest.png" in text
    assert not folder.exists()
    assert len(list(folder.parent.glob("autosave.damaged-*"))) == 1
    state = window.state
    assert state.content is None and state.settings.padding == "zeros"  # defaults

    assert drop_files(window.content_pane, [images["photo"]])
    assert drop_files(window.style_pane, [images["painting"]])
    state.set_settings(size=64, steps=2, scales=())
    state.start()
    qtbot.waitUntil(lambda: state.status == "idle", timeout=WAIT_MS)
    assert state.report.iteration == 2
    window.close()


def test_a_damaged_session_json_is_set_aside(qtbot, random_network):
    folder = autosave_folder()
    folder.mkdir(parents=True)
    (folder / "session.json").write_text("[1, 2" * 10)
    window = open_window(qtbot, random_network)
    assert "set aside" in window.messages.text.text()
    assert not folder.exists()
    window.close()


def test_corrupt_preferences_are_reset_and_the_user_told_once(qtbot, random_network):
    folder = preferences_folder()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / FILE_NAME).write_text('{"version": 1, "settings": ')
    window = open_window(qtbot, random_network)
    assert window.messages.isVisible()
    assert "Settings were reset" in window.messages.text.text()
    assert len(list(folder.glob(FILE_NAME + ".bad-*"))) == 1
    window.close()
    again = open_window(qtbot, random_network)
    assert not again.messages.isVisible()  # the fresh file reads fine: nothing to say
    again.close()


def test_huge_preferences_file_is_refused_unread(qtbot, random_network):
    folder = preferences_folder()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / FILE_NAME).write_text('{"version": 1, "open_folder": "' + "x" * 400_000 + '"}')
    window = open_window(qtbot, random_network)
    assert "too large" in window.messages.text.text()
    assert window.state.preferences.get("open_folder") == ""
    window.close()


def test_a_second_window_autosaves_to_its_own_folder_and_says_so(qtbot, random_network, images):
    first = open_window(qtbot, random_network)
    assert first.state.sessions.autosaver.folder == autosave_folder()
    second = open_window(qtbot, random_network)
    own = autosave_folder().with_name("autosave-2")
    assert second.state.sessions.autosaver.folder == own
    assert "Another Impasto window is open" in second.messages.text.text()
    assert "autosave-2" in second.messages.text.text()
    first.close()
    third = open_window(qtbot, random_network)  # the first's folder is free again
    assert third.state.sessions.autosaver.folder == autosave_folder()
    second.close()
    third.close()


# --- after kill -9 (issue 26, item 3) -------------------------------------------------------


def test_recent_files_are_on_disk_at_once_not_only_after_a_clean_close(window, images):
    # A kill -9 lost File ▸ Open recent: the preferences were written only on close.
    from gui.preferences import Preferences

    assert drop_files(window.content_pane, [images["photo"]])
    assert drop_files(window.style_pane, [images["painting"]])
    on_disk = Preferences()  # what a restarted window reads
    assert [kind for kind, _ in on_disk.get("recent_files")] == ["painting", "photo"]


def test_a_restored_run_goes_on_counting_from_its_step(qtbot, random_network, images):
    # It restarted at 1/100 although the picture continued; the next offer said "step 2".
    session = make_session(images, iteration=12)
    save_session(replace(session, settings=session.settings.replace(steps=40, settle=0)))
    window = open_window(qtbot, random_network)
    state = window.state
    qtbot.mouseClick(window.restore_bar.restore, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(window.run_panel.start, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: state.report is not None, timeout=WAIT_MS)
    assert 12 < state.report.iteration < 20, state.report.iteration  # not 1
    assert window.run_panel.iteration.text() == f"{state.report.iteration} / 40"
    assert [s.iteration for s in state.snapshots][:2] == [8, 12]  # the restored ones stay
    state.stop()
    qtbot.waitUntil(lambda: state.status == "idle", timeout=WAIT_MS)


def test_a_save_cut_short_by_a_kill_leaves_no_new_folder(qtbot, random_network, images):
    # autosave.new/ with a .content.png…tmp in it was left behind after kill -9.
    folder = save_session(make_session(images))
    fresh = folder.with_name(folder.name + ".new")
    fresh.mkdir()
    (fresh / ".content.png.abc123.tmp").write_bytes(b"half a png")
    window = open_window(qtbot, random_network)
    assert window.restore_bar.isVisible() and "(step 12)" in window.restore_bar.text.text()
    assert not fresh.exists()

"""The names the save dialog suggests."""

from __future__ import annotations

from gui.save_names import suggested_name


def test_names_say_photo_painting_and_a_snapshot_its_step():
    assert suggested_name("tubingen.jpg", ["starry_night.jpg"]) == "tubingen-starry_night.png"
    assert (suggested_name("tubingen.jpg", ["starry_night.jpg"], 120)
            == "tubingen-starry_night-step120.png")  # fmt: skip
    assert suggested_name("a.png", ["b.png", "c.png"]) == "a-b-etc.png"
    assert suggested_name(None, [], 5) == "impasto-step5.png"
    assert suggested_name('say "hi"?.jpg', []) == "say _hi.png"  # no characters a file name refuses

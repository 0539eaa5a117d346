"""`stylize --region MASK=STYLE --keep MASK`: masks from files, clear errors for bad ones,
and the picture records its regions by reference (engine/region_files.py)."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from PIL import Image

from engine.cli import main
from engine.images import read_settings
from tests.engine.helpers import checkers, painting, photo

ARGS = ("--size", "64", "--steps", "6", "--style-weight", "50")


@pytest.fixture
def files(tmp_path):
    paths = {name: tmp_path / f"{name}.png" for name in ("photo", "a", "b", "left", "right")}
    photo().save(paths["photo"])
    painting().save(paths["a"])
    checkers().save(paths["b"])
    left = np.zeros((48, 64), np.uint8)
    left[:, :32] = 255
    Image.fromarray(left).save(paths["left"])
    Image.fromarray(255 - left).resize((20, 20)).save(paths["right"])  # another shape
    return paths


def run(files, *args, weights) -> int:
    return main(["stylize", str(files["photo"]), *map(str, args), "--weights", weights, *ARGS])


def test_two_regions_and_a_keep_region(files, tmp_path, random_weights_file, capsys):
    out = tmp_path / "out.png"
    assert run(files, "--region", f"{files['left']}={files['a']}",
               "--keep", files["right"], "--keep-weight", "5", "-o", out,
               weights=random_weights_file) == 0  # fmt: skip
    result = np.asarray(Image.open(out).convert("RGB"), dtype=float) / 255
    original = np.asarray(photo(), dtype=float) / 255
    change = np.abs(result - original).mean(2)
    assert change[:, :24].mean() > 2 * change[:, 40:].mean()  # styled left, kept right
    assert "stretched to fit" in capsys.readouterr().err  # 20×20 is not the photo's shape
    recorded = read_settings(out)
    assert recorded["styles"] == [str(files["a"])]
    left, keep = recorded["regions"]
    assert left == {"mask": str(files["left"]), "styles": [0], "keep": False,
                    "mask_sha256": hashlib.sha256(files["left"].read_bytes()).hexdigest()}
    assert keep["keep"] and keep["content_boost"] == 5 and keep["mask"] == str(files["right"])


def test_plain_paintings_paint_what_no_mask_covers(files, tmp_path, random_weights_file):
    out = tmp_path / "out.png"
    assert run(files, files["b"], "--region", f"{files['left']}={files['a']},{files['b']}",
               "--style-blend", "1,2", "-o", out, weights=random_weights_file) == 0  # fmt: skip
    recorded = read_settings(out)
    assert recorded["styles"] == [str(files["b"]), str(files["a"])]  # b once, plain first
    assert [r["styles"] for r in recorded["regions"]] == [[1, 0], [0]]
    assert recorded["regions"][1]["mask"] == "rest"


@pytest.mark.parametrize("mask, message", [
    ("black", "is empty (all black)"),
    ("corrupt", "not an image file Impasto can read"),
    ("missing", "file not found"),
])  # fmt: skip
def test_bad_mask_files_give_one_line(files, tmp_path, random_weights_file, capsys, mask,
                                      message):  # fmt: skip
    path = tmp_path / f"{mask}.png"
    if mask == "black":
        Image.new("L", (64, 48), 0).save(path)
    elif mask == "corrupt":
        path.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    assert run(files, "--region", f"{path}={files['a']}", "-o", tmp_path / "out.png",
               weights=random_weights_file) == 2  # fmt: skip
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and str(path) in error and message in error
    assert "Traceback" not in error and not (tmp_path / "out.png").exists()


def test_region_arguments_are_checked(files, tmp_path, random_weights_file, capsys):
    out = tmp_path / "out.png"
    assert run(files, "--region", str(files["left"]), "-o", out,
               weights=random_weights_file) == 2  # fmt: skip
    assert "expected MASK.png=STYLE" in capsys.readouterr().err
    assert run(files, "-o", out, weights=random_weights_file) == 2
    assert "at least one painting" in capsys.readouterr().err
    assert run(files, "--region", f"{files['left']}={files['a']}", "-o", files["left"],
               weights=random_weights_file) == 2  # fmt: skip
    assert "would overwrite the mask 1" in capsys.readouterr().err


def test_a_region_can_take_its_style_from_part_of_a_painting(files, tmp_path,
                                                             random_weights_file):  # fmt: skip
    """Sky of the painting to sky of the photo: STYLE@STYLE_MASK takes the style of the
    mask's white part of the painting only. A painting red on the left and blue on the right
    paints the photo redder from its left half than from its right half."""
    two_colours = np.zeros((48, 64, 3), np.uint8)
    two_colours[:, :32] = (220, 30, 30)
    two_colours[:, 32:] = (30, 30, 220)
    Image.fromarray(two_colours).save(tmp_path / "two.png")
    whole = np.full((48, 64), 255, np.uint8)
    Image.fromarray(whole).save(tmp_path / "all.png")
    right = np.asarray(Image.open(files["left"]))[:, ::-1]
    Image.fromarray(np.ascontiguousarray(right)).save(tmp_path / "right_half.png")
    redness = {}
    for half, painting_mask in (("left", files["left"]), ("right", tmp_path / "right_half.png")):
        out = tmp_path / f"from-{half}.png"
        assert run(files, "--region", f"{tmp_path / 'all.png'}={tmp_path / 'two.png'}"
                   f"@{painting_mask}", "--content-weight", "0.01", "-o", out,
                   weights=random_weights_file) == 0  # fmt: skip
        result = np.asarray(Image.open(out).convert("RGB"), dtype=float)
        redness[half] = (result[..., 0] - result[..., 2]).mean()
        recorded = read_settings(out)["regions"][0]["style_masks"][0]
        assert recorded["mask"] == str(painting_mask)
    assert redness["left"] > redness["right"] + 10


def test_a_painting_mask_written_wrongly_is_one_line(files, tmp_path, random_weights_file,
                                                     capsys):  # fmt: skip
    assert run(files, "--region", f"{files['left']}={files['a']}@", "-o", tmp_path / "o.png",
               weights=random_weights_file) == 2  # fmt: skip
    assert "STYLE@STYLE_MASK" in capsys.readouterr().err

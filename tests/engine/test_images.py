"""Image loading and saving: every awkward file gets a result or a one-line message."""

import errno
import io
import os
import struct
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from engine import files, images
from engine.images import ImageError, load_image, read_settings, save_image
from tests.engine.helpers import photo


def write(path, data: bytes):
    path.write_bytes(data)
    return path


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def png_claiming(width: int, height: int, colour_type: int = 2) -> bytes:
    """A PNG header that claims a huge size, with no real pixels behind it (colour type 2:
    RGB, 6: RGBA, 0: greyscale)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.png", b"", "file is empty"),
        ("notes.png", b"just some text, not a picture\n", "not an image file"),
        ("cut.jpg", encoded(photo(), "JPEG")[:300], "damaged or truncated"),
        ("cut.png", encoded(photo(), "PNG")[:200], "damaged or truncated"),
        ("bomb.png", png_claiming(50_000, 50_000), "too large"),
    ],
)
def test_unusable_files_get_a_one_line_message_naming_the_file(tmp_path, name, data, reason):
    path = write(tmp_path / name, data)
    with pytest.raises(ImageError) as caught:
        load_image(path)
    message = str(caught.value)
    assert message.startswith(str(path)) and reason in message and "\n" not in message


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ImageError, match="file not found"):
        load_image(tmp_path / "nope.jpg")
    with pytest.raises(ImageError, match="is a folder"):
        load_image(tmp_path)


def test_unreadable_file(tmp_path, monkeypatch):
    path = write(tmp_path / "locked.png", encoded(photo(), "PNG"))
    if os.geteuid() != 0:  # root reads anything, so there the refusal is simulated
        path.chmod(0)
    else:

        def refuse(*args, **kwargs):
            raise PermissionError(errno.EACCES, "Permission denied")

        monkeypatch.setattr("os.open", refuse)  # as engine.files.open_regular opens
    with pytest.raises(ImageError, match="permission denied"):
        load_image(path)


@pytest.mark.parametrize(
    ("mode", "fmt", "options"),
    [
        ("L", "PNG", {}),
        ("CMYK", "JPEG", {}),
        ("RGBA", "PNG", {}),
        ("LA", "PNG", {}),
        ("RGB", "WEBP", {}),
        ("RGB", "TIFF", {}),
    ],  # fmt: skip
)
def test_every_common_mode_becomes_rgb(tmp_path, mode, fmt, options):
    path = write(tmp_path / f"image.{fmt.lower()}", encoded(photo().convert(mode), fmt, **options))
    image = load_image(path)
    assert image.mode == "RGB" and image.size == (64, 48)


def test_transparency_is_composited_on_white(tmp_path):
    rgba = Image.new("RGBA", (20, 20), (255, 0, 0, 0))
    rgba.paste((0, 0, 255, 255), (0, 0, 10, 20))
    image = load_image(write(tmp_path / "a.png", encoded(rgba, "PNG")))
    assert image.getpixel((15, 5)) == (255, 255, 255)
    assert image.getpixel((2, 5)) == (0, 0, 255)


def test_palette_with_transparency(tmp_path):
    palette = Image.new("P", (16, 16), 1)
    palette.putpalette([0, 0, 0, 200, 30, 30] + [0] * 762)
    palette.paste(0, (0, 0, 8, 16))
    data = encoded(palette, "PNG", transparency=0)
    image = load_image(write(tmp_path / "p.png", data))
    assert image.getpixel((2, 2)) == (255, 255, 255)
    assert image.getpixel((12, 2)) == (200, 30, 30)


def test_sixteen_bit_png_keeps_its_tones(tmp_path):
    ramp = (np.linspace(0, 65535, 64 * 8).reshape(8, 64)).astype(np.uint16)
    image = load_image(write(tmp_path / "deep.png", encoded(Image.fromarray(ramp), "PNG")))
    pixels = np.asarray(image)[..., 0]
    assert pixels[0, 0] == 0 and pixels[-1, -1] == 255
    assert 140 < pixels[4, 32] < 148  # 288/511 of the way: mid tones kept, not clipped


def test_animated_gif_gives_its_first_frame(tmp_path):
    frames = [Image.new("RGB", (16, 16), colour) for colour in ("red", "green", "blue")]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert load_image(path).getpixel((8, 8)) == (255, 0, 0)


def test_exif_rotation_is_applied(tmp_path):
    wide = Image.new("RGB", (40, 20), "white")
    wide.paste((255, 0, 0), (0, 0, 10, 20))  # red on the left edge
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to view"
    image = load_image(write(tmp_path / "phone.jpg", encoded(wide, "JPEG", exif=exif.tobytes())))
    assert image.size == (20, 40)
    red, green, _ = image.getpixel((10, 3))  # the left edge is now on top
    assert red > 200 and green < 60


def test_tiny_and_thin_images_load(tmp_path):
    assert load_image(write(tmp_path / "dot.png", encoded(Image.new("RGB", (1, 1)), "PNG"))).size
    thin = load_image(write(tmp_path / "line.png", encoded(Image.new("RGB", (1, 10_000)), "PNG")))
    assert thin.size == (1, 10_000)  # usable or not is decided at run size, with a message


def test_path_with_spaces_and_non_ascii(tmp_path):
    folder = tmp_path / "mes images d'été"
    folder.mkdir()
    path = write(folder / "Ölbild – Kopie.jpg", encoded(photo(), "JPEG"))
    assert load_image(path).size == (64, 48)


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".tiff", ".webp"])
def test_save_embeds_settings_and_reads_them_back(tmp_path, suffix):
    path = save_image(photo(), tmp_path / f"out{suffix}", {"style_weight": 1e6, "steps": 3})
    assert read_settings(path) == {"style_weight": 1e6, "steps": 3}
    assert load_image(path).size == (64, 48)


def test_saved_file_is_readable_by_others_like_any_new_file(tmp_path):
    path = save_image(photo(), tmp_path / "shared.png")
    assert path.stat().st_mode & 0o777 == 0o666 & ~files._UMASK


def test_failed_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = save_image(photo(seed=1), tmp_path / "keep.png")
    before = path.read_bytes()

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", disk_full)
    with pytest.raises(ImageError, match="disk is full"):
        save_image(photo(seed=2), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.png"]  # no temp file left


def test_save_refuses_unknown_types_and_missing_folders(tmp_path):
    with pytest.raises(ImageError, match="unknown file type"):
        save_image(photo(), tmp_path / "out.bmpx")
    with pytest.raises(ImageError, match="does not exist"):
        save_image(photo(), tmp_path / "nowhere" / "out.png")


SEEDS = [encoded(photo(24, 16), fmt) for fmt in ("PNG", "JPEG", "GIF", "WEBP", "TIFF", "BMP")]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.sampled_from(SEEDS),
    cuts=st.lists(st.tuples(st.integers(0, 4000), st.binary(max_size=8)), max_size=4),
    truncate=st.integers(0, 5000),
)
def test_fuzzed_image_bytes_raise_only_image_error(tmp_path_factory, seed, cuts, truncate):
    data = bytearray(seed)
    for offset, junk in cuts:
        at = offset % max(1, len(data))
        data[at : at + len(junk)] = junk
    path = tmp_path_factory.mktemp("fuzz") / "x.img"
    path.write_bytes(bytes(data[: max(1, len(data) - truncate)]))
    try:
        image = load_image(path)
    except ImageError:
        return
    assert image.mode == "RGB"


def test_a_48_megapixel_photo_loads(tmp_path):
    # A phone's full-resolution shot (8000×6000) must open; grey and one colour so the file
    # is small and quick to make, while decoding still fills every one of its pixels.
    path = tmp_path / "phone.png"
    Image.new("L", (8000, 6000), 90).save(path, compress_level=1)
    image = load_image(path)
    assert image.size == (8000, 6000) and image.getpixel((7999, 5999)) == (90, 90, 90)


def test_images_are_refused_only_above_the_limit(tmp_path):
    # Headers alone: at the limit the size is accepted (then the missing pixels are the
    # complaint), one row more is refused as too large, naming the limit.
    at_limit = write(tmp_path / "at.png", png_claiming(10_000, images.MAX_PIXELS // 10_000))
    with pytest.raises(ImageError, match="damaged or truncated"):
        load_image(at_limit)
    above = write(tmp_path / "above.png", png_claiming(10_000, images.MAX_PIXELS // 10_000 + 1))
    with pytest.raises(ImageError, match="too large .*the limit is 100 megapixels"):
        load_image(above)


@pytest.mark.parametrize(("colour_type", "mode"), [(6, "RGBA"), (0, "L"), (2, "RGB")])
def test_a_mask_over_the_limit_is_refused_in_every_mode(tmp_path, colour_type, mode):
    # A 120-megapixel RGBA mask once passed: Pillow only warned, and the run went on.
    from engine.regions import RegionError, load_mask

    path = write(tmp_path / f"{mode}.png", png_claiming(12_000, 10_000, colour_type))
    with pytest.raises(RegionError, match="too large .*the limit is 100 megapixels"):
        load_mask(path)

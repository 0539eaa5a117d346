"""Regions on the command line, in sessions and in saved pictures.

`--region MASK=STYLE[,STYLE...]` paints the mask's white with those paintings
(`STYLE@STYLE_MASK`: with the style of that mask's white part of the painting), `--keep
MASK` keeps the photo there; paintings given as plain arguments paint what no mask covers.
A mask of another size than the photo is stretched to it (and the CLI says so).

Saved pictures record regions by reference: each mask's path and the SHA-256 of its file,
beside the paintings' paths the picture already records. Nothing read back from a picture
is used as a path: Impasto never opens a file a picture names (presets read only its
settings). Sessions copy each mask into the session folder as a greyscale PNG, as they do
the photo and the paintings, so a moved mask does not lose the work.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from engine.datafile import Field, validate
from engine.files import resolved
from engine.regions import MAX_REGIONS, Region, RegionError, check_regions, load_mask


@dataclass(frozen=True)
class RegionArgs:
    """What the command line asked for: the paintings in order (plain ones first) and
    the regions, whose styles index that list."""

    styles: tuple[Path, ...]
    regions: tuple[Region, ...]
    masks: tuple[Path, ...]  # one per region from a file, in order (not the "rest")
    notes: tuple[str, ...]  # things worth telling the user (a stretched mask)
    painting_masks: tuple[tuple[Path | None, ...], ...] = ()  # per --region, per painting


@dataclass(frozen=True)
class RegionText:
    """One `--region` as written: its mask, its paintings, and for each painting the mask
    of the part its style is taken from (None: the whole painting)."""

    mask: Path
    paintings: tuple[Path, ...]
    painting_masks: tuple[Path | None, ...]


def parse_region(text: str) -> RegionText:
    """"MASK.png=STYLE[@STYLE_MASK][,STYLE...]"; RegionError if it is not that."""
    mask, sep, styles = text.partition("=")
    parts = [part.strip() for part in styles.split(",") if part.strip()]
    if not sep or not mask.strip() or not parts:
        raise RegionError(f"--region {text!r}: expected MASK.png=STYLE[@STYLE_MASK][,STYLE...]")
    paintings, painting_masks = [], []
    for part in parts:
        painting, at, painting_mask = part.rpartition("@") if "@" in part else (part, "", "")
        if at and not (painting.strip() and painting_mask.strip()):
            raise RegionError(f"--region {text!r}: expected STYLE@STYLE_MASK, got {part!r}")
        paintings.append(Path(painting.strip()))
        painting_masks.append(Path(painting_mask.strip()) if at else None)
    return RegionText(Path(mask.strip()), tuple(paintings), tuple(painting_masks))


def regions_from_args(
    plain_styles: list[Path], region_texts: list[str], keeps: list[Path],
    content_size: tuple[int, int], keep_weight: float = 1.0,
) -> RegionArgs:  # fmt: skip
    """The paintings and regions a command line asks for, masks read and checked."""
    if len(region_texts) + len(keeps) > MAX_REGIONS:
        raise RegionError(f"at most {MAX_REGIONS} --region and --keep masks")
    styles, index_of = list(plain_styles), {}
    for number, path in enumerate(plain_styles):
        index_of.setdefault(resolved(path), number)
    regions, masks, notes, painting_masks = [], [], [], []
    for text in region_texts:
        region = parse_region(text)
        indices = []
        for painting in region.paintings:
            key = resolved(painting)
            if key not in index_of:  # the same file named twice is seen once
                index_of[key] = len(styles)
                styles.append(painting)
            indices.append(index_of[key])
        # A painting's mask needs no fitting: it is resized with the painting, per scale.
        style_masks = tuple(None if path is None else load_mask(path)
                            for path in region.painting_masks)  # fmt: skip
        if all(mask is None for mask in style_masks):
            style_masks = ()
        regions.append(Region(_fitted(region.mask, content_size, notes), tuple(indices),
                              style_masks=style_masks))  # fmt: skip
        masks.append(region.mask)
        painting_masks.append(region.painting_masks)
    for mask_path in keeps:
        regions.append(Region(_fitted(mask_path, content_size, notes), keep=True,
                              content_boost=keep_weight))  # fmt: skip
        masks.append(mask_path)
    if plain_styles and regions:  # the plain paintings paint what no mask covers
        rest = 1 - np.clip(sum(region.mask for region in regions), 0, 1)
        if rest.max() > 1 / 255:
            regions.append(Region(rest, tuple(range(len(plain_styles)))))
    return RegionArgs(tuple(styles), tuple(regions), tuple(masks), tuple(notes),
                      tuple(painting_masks))


def _fitted(path: Path, size: tuple[int, int], notes: list[str]) -> np.ndarray:
    """The mask at the photo's size (width, height): masks of any size are stretched."""
    mask = load_mask(path)
    height, width = mask.shape
    if (width, height) != size:
        if abs(width / height - size[0] / size[1]) > 0.02 * size[0] / size[1]:
            notes.append(f"mask {path} is {width}×{height} px, the photo {size[0]}×{size[1]}; "
                         "it is stretched to fit")  # fmt: skip
        image = Image.fromarray(np.round(mask * 255).astype(np.uint8))
        mask = np.asarray(image.resize(size, Image.Resampling.BILINEAR), np.float32) / 255
    return mask


def picture_record(args: RegionArgs) -> list[dict]:
    """Regions as a saved picture records them: by reference, with each mask's hash."""
    records = []
    for number, region in enumerate(args.regions):
        record = {"styles": list(region.styles), "keep": region.keep}
        if number < len(args.masks):
            path = args.masks[number]
            record["mask"] = str(path)
            record["mask_sha256"] = _sha256(path)
        else:
            record["mask"] = "rest"  # what no mask covers, painted by the plain paintings
        chosen = args.painting_masks[number] if number < len(args.painting_masks) else ()
        if any(path is not None for path in chosen):
            record["style_masks"] = [None if path is None else
                                     {"mask": str(path), "mask_sha256": _sha256(path)}
                                     for path in chosen]  # fmt: skip
        if region.keep:
            record["content_boost"] = region.content_boost
        records.append(record)
    return records


def painted_record(regions: tuple[Region, ...] | list[Region]) -> list[dict]:
    """Regions painted in the window (no files) as a saved picture records them: which
    paintings each one paints, and its mask's size and the SHA-256 of its 8-bit pixels."""
    records = []
    for region in regions:
        pixels = np.round(np.clip(region.mask, 0, 1) * 255).astype(np.uint8)
        record = {"styles": list(region.styles), "keep": region.keep, "mask": "painted",
                  "mask_size": [pixels.shape[1], pixels.shape[0]],
                  "mask_sha256": hashlib.sha256(pixels.tobytes()).hexdigest()}  # fmt: skip
        if region.keep:
            record["content_boost"] = region.content_boost
        records.append(record)
    return records


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- sessions: masks copied into the folder ---------------------------------------------------

REGION_SCHEMA = {
    "styles": Field("list", max_length=64, required=True),
    "keep": Field("bool", required=True),
    "blend": Field("list", max_length=64),
    "content_boost": Field("number", 1, 100),
    "style_masks": Field("list", max_length=64),
}


def mask_image(mask: np.ndarray) -> Image.Image:
    return Image.fromarray(np.round(np.clip(mask, 0, 1) * 255).astype(np.uint8), "L")


def session_files(regions: list[Region]) -> tuple[list[dict], dict[str, Image.Image]]:
    """The session.json records of `regions` and the mask images to write beside them."""
    records, images = [], {}
    for number, region in enumerate(regions):
        images[f"mask-{number}.png"] = mask_image(region.mask)
        painted = [mask is not None for mask in region.style_masks]
        for index, mask in enumerate(region.style_masks):
            if mask is not None:
                images[f"mask-{number}-style-{index}.png"] = mask_image(mask)
        records.append({"styles": [int(i) for i in region.styles], "keep": region.keep,
                        "blend": [float(w) for w in region.blend],
                        "content_boost": float(region.content_boost),
                        "style_masks": painted})  # fmt: skip
    return records, images


def session_regions(records: list, folder: Path, style_count: int) -> list[Region]:
    """Regions back from a session folder; ValueError (RegionError) if any is unusable."""
    regions = []
    for number, record in enumerate(records[:MAX_REGIONS]):
        record = validate(record, REGION_SCHEMA, f"{folder} region {number + 1}")
        styles = record["styles"]
        if not all(isinstance(i, int) and not isinstance(i, bool) for i in styles):
            raise RegionError(f"region {number + 1}: styles must be numbers")
        painted = record.get("style_masks", [])
        style_masks = tuple(load_mask(folder / f"mask-{number}-style-{index}.png")
                            if index < len(painted) and painted[index] is True else None
                            for index in range(len(styles)))  # fmt: skip
        blend = record.get("blend", [])
        if not all(isinstance(w, (int, float)) and not isinstance(w, bool) for w in blend):
            raise RegionError(f"region {number + 1}: blend weights must be numbers")
        regions.append(Region(
            load_mask(folder / f"mask-{number}.png"), tuple(styles), record["keep"],
            tuple(float(w) for w in blend),
            style_masks if any(m is not None for m in style_masks) else (),
            float(record.get("content_boost", 1.0))))  # fmt: skip
    check_regions(regions, style_count)
    return regions

"""What an ImageFolder tree (``<root>/{train,test}/<class>/<image>``) holds, read before any job:
its classes, every image decoded once (a file that does not decode is named with its path), the
image sizes and modes, and a digest of the content (relative paths and bytes) that makes the
images an input of the jobs that read them: a changed, added or removed image changes it.

A scan decodes every file; it is kept per process, keyed by every file's (path, size, mtime), so
the checks and the rules of one Snakemake run read the tree once."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

SPLITS = ("train", "test")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
GRAY = ("L", "1", "I;16", "I", "F")


@dataclass(frozen=True)
class FolderScan:
    root: str
    classes: dict[str, tuple[str, ...]]  # split -> class folder names (sorted)
    counts: dict[str, tuple[int, ...]]  # split -> images per class
    sizes: frozenset[tuple[int, int]]  # (height, width) of the images, both splits
    gray: bool  # every image is grayscale (read as 1 channel, else RGB)
    bad: tuple[str, ...]  # "<path>: <why>" of each file that does not decode
    digest: str  # sha256 of (relative path, bytes) of every image

    @property
    def channels(self) -> int:
        return 1 if self.gray else 3

    @property
    def n_classes(self) -> int:
        return len(self.classes.get("train", ()))

    @property
    def image_size(self) -> tuple[int, int] | None:
        """The images' common (height, width); None when they differ."""
        return next(iter(self.sizes)) if len(self.sizes) == 1 else None


def image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def class_folders(split: Path) -> list[Path]:
    return sorted(p for p in split.iterdir() if p.is_dir())


def _listing(root: Path) -> tuple[tuple[str, int, int], ...]:
    return tuple((str(f), f.stat().st_size, f.stat().st_mtime_ns)
                 for split in SPLITS if (root / split).is_dir()
                 for folder in class_folders(root / split) for f in image_files(folder))


_CACHE: dict[tuple, FolderScan] = {}


def scan_image_folder(root: str | Path) -> FolderScan:
    """The scan of the tree at ``root`` (its train/ and test/ folders must exist)."""
    root = Path(root).resolve()
    key = (str(root), _listing(root))
    if key not in _CACHE:
        _CACHE.clear()  # one tree at a time is enough for a run; keeps memory flat
        _CACHE[key] = _scan(root)
    return _CACHE[key]


def _scan(root: Path) -> FolderScan:
    from PIL import Image

    digest = hashlib.sha256()
    classes, counts, sizes, modes, bad = {}, {}, set(), set(), []
    for split in SPLITS:
        folders = class_folders(root / split)
        classes[split] = tuple(f.name for f in folders)
        counts[split] = tuple(len(image_files(f)) for f in folders)
        for folder in folders:
            for path in image_files(folder):
                data = path.read_bytes()
                digest.update(f"{path.relative_to(root)}\0{len(data)}\0".encode())
                digest.update(hashlib.sha256(data).digest())
                try:
                    with Image.open(path) as im:
                        im.load()  # a truncated or damaged file fails here, not in a job
                        sizes.add((im.height, im.width))
                        modes.add(im.mode)
                except Exception as err:  # PIL raises many kinds for a damaged file
                    bad.append(f"{path}: {type(err).__name__}: {err}")
    return FolderScan(str(root), classes, counts, frozenset(sizes),
                      bool(modes) and all(m in GRAY for m in modes), tuple(bad),
                      digest.hexdigest())


def folder_errors(key: str, scan: FolderScan, classes, image_size,
                  train_per_class, test_per_class, replace: bool) -> list[str]:
    """What makes the scanned tree unusable for a spec (``key``: the spec's config key)."""
    errs = [f"{key}.root: an image does not decode: {b}" for b in scan.bad[:5]]
    if len(scan.bad) > 5:
        errs.append(f"{key}.root: {len(scan.bad) - 5} more images do not decode")
    for split in SPLITS:
        n = len(scan.classes[split])
        if n < 2:
            errs.append(f"{key}.root: {scan.root}/{split} holds {n} class folder(s) "
                        f"({', '.join(scan.classes[split]) or 'none'}); a classifier needs at "
                        "least 2")
    if image_size is None and len(scan.sizes) > 1:
        shown = sorted(scan.sizes)[:4]
        errs.append(f"{key}.image_size is not set and the images of {scan.root} differ in size "
                    f"({', '.join(f'{h}x{w}' for h, w in shown)}, ...): set image_size")
    keep = list(classes) if classes is not None else list(range(scan.n_classes))
    if keep and max(keep) >= scan.n_classes:
        errs.append(f"{key}.classes {keep}: {scan.root} has {scan.n_classes} classes")
        return errs
    for split, n in (("train", train_per_class), ("test", test_per_class)):
        if n is None or replace or split not in scan.counts:
            continue
        short = [f"{scan.classes[split][c]} ({scan.counts[split][c]})" for c in keep
                 if c < len(scan.counts[split]) and scan.counts[split][c] < n]
        if short:
            errs.append(f"{key}.{split}_per_class {n}: fewer images in {scan.root}/{split} "
                        f"for {', '.join(short)} (lower it, or set replace: true)")
    return errs

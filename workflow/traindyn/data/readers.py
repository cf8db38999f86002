"""Readers of the data-set formats in :mod:`traindyn.data.registry`, each from a local root:
one split -> (images, labels, class names). Images come as they are stored (uint8, N x H x W x
C), or as a list of such arrays when an ImageFolder's images differ in size. Nothing is
downloaded unless ``download`` is true. Missing files are found first by
:func:`traindyn.data.images.data_errors`, so each reader can assume its layout."""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np

from .cifar import read_cifar10
from .folder_scan import IMAGE_SUFFIXES, class_folders, image_files, scan_image_folder  # noqa: F401
from .registry import facts



def read_cifar(root: str, train: bool, download: bool) -> tuple[np.ndarray, np.ndarray, tuple]:
    images, labels = read_cifar10(root, train, download)
    return images, labels.astype(np.int64), facts("cifar10").class_names


def read_idx(name: str, root: str, train: bool, download: bool):
    """MNIST-layout idx files (MNIST, FashionMNIST) through torchvision's reader."""
    import torchvision.datasets as tvd

    cls = {"mnist": tvd.MNIST, "fashionmnist": tvd.FashionMNIST}[name]
    ds = cls(root, train=train, download=download)
    return (ds.data.numpy()[..., None], ds.targets.numpy().astype(np.int64),
            facts(name).class_names)


def read_image_folder(root: str, train: bool):
    """<root>/{train,test}/<class>/<image>: classes in sorted folder order (as torchvision's
    ImageFolder numbers them); grayscale when every image of both splits is, RGB otherwise."""
    from PIL import Image

    split = Path(root) / ("train" if train else "test")
    classes = class_folders(split)
    files = [(f, c) for c, folder in enumerate(classes) for f in image_files(folder)]
    opened = [Image.open(f) for f, _ in files]
    mode = "L" if scan_image_folder(root).gray else "RGB"  # one mode for both splits
    images = [np.asarray(im.convert(mode)) for im in opened]
    for im in opened:
        im.close()
    images = [a[..., None] if a.ndim == 2 else a for a in images]
    if len({a.shape for a in images}) == 1:
        images = np.stack(images)
    return images, np.array([c for _, c in files], dtype=np.int64), tuple(c.name for c in classes)


def torchvision_class(name: str):
    """A ``torchvision.datasets`` class by name; an unknown name is a ValueError."""
    import torchvision.datasets as tvd

    cls = getattr(tvd, name, None)
    if not (inspect.isclass(cls) and issubclass(cls, tvd.VisionDataset)):
        raise ValueError(f"torchvision.datasets has no data-set class {name!r}")
    return cls


def read_torchvision(class_name: str, root: str, train: bool, download: bool):
    """Any torchvision data set by class name, with its ``train=`` or ``split=`` argument."""
    cls = torchvision_class(class_name)
    params = inspect.signature(cls.__init__).parameters
    split = ({"train": train} if "train" in params
             else {"split": "train" if train else "test"} if "split" in params else {})
    try:
        ds = cls(root, download=download, **split) if "download" in params else cls(root, **split)
    except RuntimeError as err:  # torchvision's "Dataset not found or corrupted"
        raise FileNotFoundError(f"torchvision.datasets.{class_name} could not read {root!r}: "
                                f"{err}") from err
    images, labels = [], []
    for i in range(len(ds)):
        image, label = ds[i]
        a = np.asarray(image)
        images.append(a[..., None] if a.ndim == 2 else a)
        labels.append(int(label))
    names = tuple(getattr(ds, "classes", ()) or ())
    if len({a.shape for a in images}) == 1:
        images = np.stack(images)
    return images, np.asarray(labels, dtype=np.int64), names

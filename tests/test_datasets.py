"""Data sets from one table (traindyn.data.registry) read as tensors from local roots in their
real formats (idx, CIFAR-10 python, an ImageFolder tree, any torchvision class by name), with
seeded per-class subsamples, class subsets, resizing, and clear errors before any work."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from image_fixtures import image_folder, mnist_idx
from lesde_fixtures import cifar_archive
from traindyn.data.cifar import read_cifar10
from traindyn.data.geomnist import generate
from traindyn.data.images import check_data, data_errors, load_images
from traindyn.data.noise import corrupt_labels
from traindyn.data.registry import TABLE, facts
from traindyn.seeds import NOISE, numpy_rng


def _class_pixel(x: torch.Tensor) -> torch.Tensor:
    """The fixtures' class code (20 * class in the top-left pixel) of unnormalized images."""
    return torch.round(x[:, 0, 0, 0] * 255 / 20).long()


@pytest.mark.parametrize("name,folder", [("mnist", "MNIST"), ("fashionmnist", "FashionMNIST")])
def test_idx_data_sets_read_class_ordered_as_the_table_says(tmp_path, name, folder):
    root = mnist_idx(tmp_path, folder)
    raw = load_images(name, root, normalize="none")
    f = facts(name)
    assert raw.channels == f.channels and raw.n_classes == f.n_classes
    assert raw.image_size == f.image_size and raw.class_names == f.class_names
    assert raw.x_train.shape == (30, 1, 28, 28) and raw.x_test.shape == (20, 1, 28, 28)
    assert raw.y_train.tolist() == np.repeat(np.arange(10), 3).tolist()  # class-ordered
    assert torch.equal(_class_pixel(raw.x_train), raw.y_train)
    assert torch.equal(_class_pixel(raw.x_test), raw.y_test)
    std = load_images(name, root)  # standardized by the training set's statistics
    assert abs(float(std.x_train.mean())) < 1e-5 and abs(float(std.x_train.std()) - 1) < 1e-2


def test_subsample_is_seeded_per_class_and_classes_are_relabelled(tmp_path):
    root = mnist_idx(tmp_path)
    kw = dict(classes=[7, 2], train_per_class=2, test_per_class=1, normalize="none")
    a, b = load_images("mnist", root, seed=1, **kw), load_images("mnist", root, seed=1, **kw)
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.x_test, b.x_test)
    assert a.y_train.tolist() == [0, 0, 1, 1] and a.class_names == ("7", "2")
    assert _class_pixel(a.x_train).tolist() == [7, 7, 2, 2]  # the images of classes 7 and 2
    draws = {tuple(load_images("mnist", root, seed=s, **kw).x_train[:, 0, 5, 5].tolist())
             for s in range(6)}
    assert len(draws) > 1  # the seed picks the subsample
    with pytest.raises(ValueError, match="class 7 has 3 train images.*fewer than the 4"):
        load_images("mnist", root, classes=[7, 2], train_per_class=4)
    assert len(load_images("mnist", root, classes=[7, 2], train_per_class=4,
                           replace=True).y_train) == 8


def test_resize_and_channel_conversion(tmp_path):
    root = mnist_idx(tmp_path)
    s = load_images("mnist", root, image_size=32, channels=3, normalize="none")
    assert s.x_train.shape == (30, 3, 32, 32) and s.image_size == (32, 32)
    assert torch.equal(s.x_train[:, 0], s.x_train[:, 2])  # gray repeated
    flat = load_images("mnist", root, normalize="none")
    ref = torch.nn.functional.interpolate(flat.x_train, size=(32, 32), mode="bilinear",
                                          antialias=True, align_corners=False)
    torch.testing.assert_close(s.x_train[:, 1:2], ref, rtol=0, atol=1e-6)


def test_cifar_archive_reads_the_same_pixels_as_the_paper_reader(tmp_path):
    root = cifar_archive(tmp_path, per_class_train=2, per_class_test=1)
    s = load_images("cifar10", root, normalize="none", classes=[1, 4])
    images, labels = read_cifar10(root, True)
    want = images[np.concatenate([np.flatnonzero(labels == c) for c in (1, 4)])]
    assert s.class_names == ("automobile", "deer") and s.x_train.shape == (20, 3, 32, 32)
    got = torch.round(s.x_train * 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()
    assert np.array_equal(got, want)


def test_image_folder_tree_rgb_gray_and_sizes(tmp_path):
    rgb = load_images("imagefolder", image_folder(tmp_path / "rgb"), normalize="none")
    assert rgb.class_names == ("cat", "dog", "owl") and rgb.x_train.shape == (12, 3, 12, 10)
    assert torch.equal(_class_pixel(rgb.x_train), rgb.y_train)
    gray = load_images("imagefolder", image_folder(tmp_path / "gray", gray=True))
    assert gray.channels == 1
    mixed = image_folder(tmp_path / "mixed")
    from PIL import Image
    Image.new("RGB", (7, 9)).save(tmp_path / "mixed" / "train" / "dog" / "odd.png")
    with pytest.raises(ValueError, match="differ in size.*set image_size"):
        load_images("imagefolder", mixed)
    assert load_images("imagefolder", mixed, image_size=(8, 8)).x_train.shape == (13, 3, 8, 8)


def test_any_torchvision_class_by_name(tmp_path):
    root = mnist_idx(tmp_path, "KMNIST")  # KMNIST has MNIST's layout under KMNIST/raw
    s = load_images("torchvision", root, torchvision_class="KMNIST", normalize="none")
    assert s.x_train.shape == (30, 1, 28, 28) and s.n_classes == 10
    assert torch.equal(_class_pixel(s.x_train), s.y_train)


def test_geomnist_generated_with_the_paper_runs_noise():
    s = load_images("geomnist", train_per_class=10, test_per_class=4, seed=3, label_noise=0.4,
                    normalize="none", dtype=torch.float64)
    d = generate(10, 4, 3)
    assert np.array_equal(s.x_train.numpy(), d["x_train"].astype(np.float64))
    assert s.true_train.tolist() == d["y_train"].tolist()
    want = corrupt_labels(d["y_train"], 0.4, 3, numpy_rng(3, "data/geomnist", 0, NOISE))
    assert s.y_train.tolist() == want.tolist() and (s.y_train != s.true_train).sum() == 12
    noisy = load_images("geomnist", train_per_class=10, test_per_class=4, seed=3,
                        pixel_noise=0.5, normalize="none")
    assert abs(float((noisy.x_train - s.x_train.float()).std()) - 0.5) < 0.05
    assert s.class_names == facts("geomnist").class_names


def test_missing_or_malformed_roots_name_the_path_and_what_is_missing(tmp_path):
    missing = tmp_path / "nowhere"
    (err,) = data_errors("cifar10", str(missing), key="studies.s.data")
    assert str(missing) in err and "does not exist" in err and "studies.s.data.download" in err
    (err,) = data_errors("mnist", str(tmp_path))
    assert "MNIST/raw/train-images-idx3-ubyte" in err and "expected format" in err
    errs = data_errors("imagefolder", mnist_idx(tmp_path / "m"))
    assert any("no train/ folder" in e for e in errs) and all("download" not in e for e in errs)
    assert "not set" in data_errors("fashionmnist")[0]
    assert "known: geomnist" in data_errors("svhn")[0]
    assert "no data-set class 'Nope'" in data_errors("torchvision", str(tmp_path),
                                                     torchvision_class="Nope")[0]
    assert "0..9" in data_errors("mnist", str(tmp_path), classes=[3, 12])[-1]
    assert data_errors("cifar10", str(missing), download=True) == []  # the explicit switch
    with pytest.raises(FileNotFoundError, match="nowhere"):
        check_data("cifar10", str(missing))
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_images("mnist", str(missing))


def test_every_table_entry_has_its_facts():
    for name, f in TABLE.items():
        assert f.name == name and f.source and f.format
        if f.n_classes is not None:
            assert f.class_names is not None and len(f.class_names) == f.n_classes

import hashlib

import numpy as np
import pytest

from traindyn.data import geomnist


def _digest(arrays):
    h = hashlib.sha256()
    for k in sorted(arrays):
        h.update(arrays[k].tobytes())
    return h.hexdigest()


def test_same_seed_identical_bytes_different_seed_differs():
    a = geomnist.generate(20, 5, seed=3)
    b = geomnist.generate(20, 5, seed=3)
    c = geomnist.generate(20, 5, seed=4)
    assert _digest(a) == _digest(b)
    assert _digest(a) != _digest(c)


def test_shapes_order_and_balance():
    d = geomnist.generate(30, 10, seed=0)
    assert d["x_train"].shape == (90, 1, 32, 32) and d["x_train"].dtype == np.float32
    assert d["x_val"].shape == (30, 1, 32, 32)
    # class-ordered: training sample i has true class i // n_train
    np.testing.assert_array_equal(d["y_train"], np.arange(90) // 30)
    assert np.bincount(d["y_val"]).tolist() == [10, 10, 10]


def test_images_are_blurred_shapes_of_distinct_classes():
    d = geomnist.generate(50, 0, seed=1)
    x, y = d["x_train"][:, 0], d["y_train"]
    assert x.min() > -0.1 and x.max() < 1.1
    # blur leaves no hard 0/1 image; every image has a shape in it
    assert np.all(x.reshape(len(x), -1).max(axis=1) > 0.5)
    area = x.reshape(len(x), -1).sum(axis=1)
    means = [area[y == c].mean() for c in range(3)]
    # mean areas of the base shapes: ellipse ~228, triangle ~219, rectangle 153 pixels
    assert means[2] > means[0] > means[1]
    assert abs(means[1] - 153) < 1  # rotation and blur keep the mass of the 9 x 17 rectangle


def test_rotation_sweeps_the_class():
    tri = geomnist.triangle(32, 0.0)
    assert tri.sum() > 100
    img0 = geomnist.generate_class(1, 3, np.random.default_rng(0), image_size=32,
                                   max_angle_deg=90, blur_sigma=(1.0, 1.0))
    # three rectangles at 0, 45 and 90 degrees are not all the same picture
    assert not np.allclose(img0[0], img0[1]) and not np.allclose(img0[1], img0[2])


def test_class_count_limit():
    with pytest.raises(ValueError, match="3 classes"):
        geomnist.generate(2, 2, seed=0, n_classes=4)


def test_build_writes_provenance(tmp_path):
    out = tmp_path / "g.npz"
    geomnist.build_geomnist(str(out), n_train=4, n_val=2, seed=0, image_size=32,
                            max_angle_deg=176, blur_sigma=[0.9, 1.1])
    data = geomnist.load_geomnist(str(out))
    assert "config_hash" in str(data["provenance"])
    assert data["class_names"].tolist() == ["triangle", "rectangle", "ellipse"]


def test_missing_cache_names_the_path_and_the_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match="snakemake"):
        geomnist.load_geomnist(str(tmp_path / "nope.npz"))


def _centroid_offset(mask):
    """Distance of a mask's pixel centroid from the rotation centre ((size - 1) / 2, twice)."""
    r, c = np.nonzero(mask)
    centre = (mask.shape[0] - 1) / 2
    return float(np.hypot(r.mean() - centre, c.mean() - centre))


def test_base_shape_pixel_counts():
    n = 1000
    tri, rect, ell = (geomnist.base_shapes(c, n).sum(axis=(1, 2)) for c in range(3))
    # triangle: pixel centres inside the polygon; 230 at whole-pixel shifts, 218 at half-pixel
    assert tri.min() == 209 and tri.max() == 230
    assert [geomnist.triangle(32, s).sum() for s in (-1, -0.5, 0, 0.5, 1)] == [230, 218, 230, 218,
                                                                               230]
    # rectangle: corners rounded to whole pixels, both ends included, for every shift
    assert np.all(rect == 153)
    for mask in geomnist.base_shapes(1, 7):
        r, c = np.nonzero(mask)
        assert (np.ptp(r) + 1, np.ptp(c) + 1) == (9, 17)
    # ellipse: semi-axes r (rows) and 2r (columns), r from 5 to 7
    assert ell[0] == 147 and ell[-1] == 299 and ell.min() == 147 and ell.max() == 299
    r, c = np.nonzero(geomnist.ellipse(32, 6.0))
    assert np.ptp(c) > np.ptp(r)  # wide: the long axis runs along the columns
    for masks in (geomnist.base_shapes(c, 5) for c in range(3)):
        assert set(np.unique(masks)) == {0.0, 1.0}


def test_triangle_extent_and_orientation():
    tri = geomnist.triangle(32, 0.0)
    r, c = np.nonzero(tri)
    # base 20 px along the rows (vertices at rows 6 and 26 are pixel centres, both in)
    assert (r.min(), r.max()) == (6, 26)
    # base at column 24, apex 8*sqrt(3) ~ 13.9 px before the centre (16): 21.9 px from base to
    # apex; pixel centres span 21 px (columns 3..24)
    assert (c.min(), c.max()) == (3, 24)
    assert tri[:, 24].sum() == 21 and tri[:, 3].sum() <= 2  # full base, pointed apex
    # moved diagonally: the shift is added to rows and columns alike
    r1, c1 = np.nonzero(geomnist.triangle(32, 1.0))
    assert (r1.min(), r1.max(), c1.min(), c1.max()) == (7, 27, 4, 25)


def test_base_shape_centroids_near_the_rotation_centre():
    offsets = [[_centroid_offset(m) for m in geomnist.base_shapes(c, 1000)] for c in range(3)]
    tri, rect, ell = (np.array(o) for o in offsets)
    assert 1.3 < tri.mean() < 1.5 and tri.max() < 3.0  # mean 1.39 px, 0.64 to 2.99 px
    assert 1.0 < rect.mean() < 1.1 and rect.max() < 2.2  # rounded shifts: 0.71 to 2.12 px
    np.testing.assert_allclose(ell, np.sqrt(0.5))  # centred at (16, 16)


def test_base_shapes_scale_with_the_image_size():
    assert geomnist.rectangle(64, 0.0).sum() == 17 * 33  # 2*8 + 1 rows, 2*16 + 1 columns
    big = geomnist.generate_class(2, 1, np.random.default_rng(0), image_size=256,
                                  max_angle_deg=0.0, blur_sigma=(1.0, 1.0))
    assert big.shape == (1, 256, 256) and big.max() > 0.9
    with pytest.raises(ValueError, match="3 classes"):
        geomnist.base_shapes(3, 2)


def test_base_shapes_are_deterministic_and_need_no_randomness():
    for c in range(3):
        np.testing.assert_array_equal(geomnist.base_shapes(c, 50), geomnist.base_shapes(c, 50))
    a = geomnist.generate_class(0, 30, np.random.default_rng(5), image_size=32,
                                max_angle_deg=176, blur_sigma=(0.9, 1.1))
    b = geomnist.generate_class(0, 30, np.random.default_rng(5), image_size=32,
                                max_angle_deg=176, blur_sigma=(0.9, 1.1))
    assert a.tobytes() == b.tobytes()


def test_rotation_angles_follow_the_authors_sweep():
    # image i of n is turned by max_angle * i / n: 0 included, the maximum not
    np.testing.assert_array_equal(geomnist.rotation_angles(4, 176.0), [0.0, 44.0, 88.0, 132.0])


def test_class_blocks_hold_their_shapes():
    # without rotation and blur, every image of block c is one of class c's base shapes
    d = geomnist.generate(40, 10, seed=2, max_angle_deg=0.0, blur_sigma=(0.0, 0.0))
    for x, y in ((d["x_train"], d["y_train"]), (d["x_val"], d["y_val"])):
        area = np.rint(x.reshape(len(x), -1).sum(axis=1))
        assert np.all(area[y == 1] == 153)
        assert np.all((area[y == 0] >= 209) & (area[y == 0] <= 230))
        assert np.all((area[y == 2] >= 147) & (area[y == 2] <= 299))
        # longest column: a triangle's base (19-21 px), an ellipse's row axis 2r (9-13 px)
        longest = (x[:, 0] > 0.5).sum(axis=1).max(axis=1)
        assert np.all((longest[y == 0] >= 19) & (longest[y == 0] <= 21))
        assert np.all(longest[y == 2] <= 13) and np.all(longest[y == 1] == 9)


@pytest.mark.slow
def test_paper_scale_training_reaches_95_percent_like_the_authors_data(tmp_path):
    """Paper setting without label noise: 500 + 500 images per class, lr 0.005, one-sample SGD,
    ten trials (0-9), float32, the full validation set every 250 iterations. The trial-mean
    validation accuracy must first reach 0.95 in [2750, 4500]: the range a faithful port of the
    authors' whole generator (zjiayao/le_sde gen_geomnist_data, their global np.random) gives for
    a ten-trial mean when trained with this project's trainer.

    Measured (5 runs x 25 trials, 6000 iterations; authors' data seeds 0, 1, 2 with trial seed 0,
    seeds 0 and 1 with trial seeds 1 and 2): ten disjoint trials crossed at 3000-4250; resampling
    ten of the 125 trial curves puts the crossing in [2750, 4500] 95% of the time (median 3500);
    25-trial means crossed at 3500-3750 and 100-trial resamples at 3500-3750, in line with the
    ~3750 read off the authors' Figure 4b. The crossing of a ten-trial mean is set by its slowest
    trials (single trials cross anywhere from 1000 to 5750, mostly as a function of the trial's
    initialization and sample order, not of the data draw), hence the wide window. The images are
    pixel-identical to the port's for the same blur sigmas, so only the random draws differ: with
    trials 0-9 the port's data crossed at 3250, 3250, 3000 (seeds 0, 1, 2) and this project's at
    3000 (seeds 0 and 1; float64 also 3000). About 70 s (one thread, 5000 iterations).
    """
    from traindyn.lesde.logs import read_log
    from traindyn.lesde.steps import train_run

    data = tmp_path / "g.npz"
    geomnist.build_geomnist(str(data), n_train=500, n_val=500, seed=0, image_size=32,
                            max_angle_deg=176, blur_sigma=[0.9, 1.1])
    train_run(str(tmp_path / "s.parquet"), str(tmp_path / "v.parquet"), str(data),
              experiment="geomnist_noise", setting="p0.0", trials=[0, 10], dataset="geomnist",
              p=0.0, iterations=5000, lr=0.005, eval_every=250, eval_subset=None, seed=0,
              dtype="float32", device="cpu", checkpoint_every=5000)
    val = read_log(tmp_path / "v.parquet").to_pandas()
    assert val.trial.nunique() == 10
    mean_acc = val.groupby("itr").val_acc.mean()
    print("mean validation accuracy by iteration:", mean_acc.round(3).to_dict())
    reached = mean_acc.index[mean_acc >= 0.95]
    assert len(reached), f"never reached 0.95 (best {mean_acc.max():.3f})"
    assert 2750 <= reached[0] <= 4500, f"first reached 0.95 at iteration {reached[0]}"

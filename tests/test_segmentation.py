"""dlviz.segmentation: digit scenes, IoU / Dice, TP/FP/FN maps, tiling, elastic deformation, input preparation."""
import numpy as np
import pytest

from dlviz import segmentation as seg


def fake_mnist(n=40, train_label=3, test_label=7, seed=0):
    """Train digits all labelled `train_label`, test digits all `test_label`: the label says where a digit came from."""
    rng = np.random.default_rng(seed)

    def digits(n):
        x = np.zeros((n, 28, 28), np.uint8)
        for i in range(n):
            r, c = rng.integers(4, 10, 2)
            x[i, r:r + 14, c:c + 4] = 255          # a fat vertical stroke
            x[i, r:r + 4, c:c + 12] = 200
        return x

    return ((digits(n), np.full(n, train_label, np.uint8)), (digits(n), np.full(n, test_label, np.uint8)))


# --------------------------------------------------------------------------- scenes

def test_scenes_are_deterministic_given_the_seed():
    (x, y), _ = fake_mnist()
    a, b, c = seg.digit_scenes(x, y, 5, seed=1), seg.digit_scenes(x, y, 5, seed=1), seg.digit_scenes(x, y, 5, seed=2)
    assert np.array_equal(a.images, b.images) and np.array_equal(a.masks, b.masks)
    assert not np.array_equal(a.images, c.images)
    assert a.images.shape == a.masks.shape == (5, seg.SCENE_SIZE, seg.SCENE_SIZE)
    assert a.images.dtype == a.masks.dtype == np.uint8


def test_training_scenes_use_only_train_digits_and_test_scenes_only_test_digits():
    mnist = fake_mnist()
    train = seg.scenes_from_mnist(mnist, "train", 30, seed=0)
    test = seg.scenes_from_mnist(mnist, "test", 30, seed=0)
    assert set(np.unique(train.masks)) == {0, 3 + 1}       # label k is stored as k + 1
    assert set(np.unique(test.masks)) == {0, 7 + 1}
    assert (train.sources < 40).all() and (train.sources >= 0).any()
    # the same --seed gives different streams for the two splits
    assert not np.array_equal(train.images, test.images)
    with pytest.raises(ValueError):
        seg.scenes_from_mnist(mnist, "validation", 3, seed=0)


def test_one_digit_scene_labels_match_its_ink():
    x = np.zeros((1, 28, 28), np.uint8)
    x[0, 6:22, 10:18] = np.linspace(0, 255, 8, dtype=np.uint8)[None, :]   # a ramp of ink, faint to bright
    s = seg.digit_scenes(x, np.array([5], np.uint8), 6, seed=3, digits=(1, 1))
    ink = s.images.astype(float) / 255
    sure = np.abs(ink - seg.INK_THRESHOLD) > 1 / 255       # pixels not on the rounding edge of the threshold
    assert np.array_equal((s.masks == 6)[sure], (ink >= seg.INK_THRESHOLD)[sure])
    assert set(np.unique(s.masks)) == {0, 6}
    assert (s.masks == 6).sum() > 0


def test_overlapping_digits_brighter_ink_wins_ties_go_to_the_later_digit():
    a = np.array([[0.9, 0.6, 0.3, 0.7]], np.float32)
    b = np.array([[0.6, 0.9, 0.2, 0.7]], np.float32)
    image, mask = seg.paste_digits([a, b], [1, 2], [(0, 0), (0, 0)], (1, 4))
    assert image[0].tolist() == pytest.approx([0.9, 0.9, 0.3, 0.7])
    # pixel 0: a brighter -> class 1 (label 2); pixel 1: b brighter -> 3; pixel 2: faint -> background; 3: tie -> b
    assert mask.tolist() == [[2, 3, 0, 3]]


def test_digits_are_placed_without_their_inks_touching():
    (x, y), _ = fake_mnist(n=20)
    s = seg.digit_scenes(x, y, 10, seed=4, digits=(3, 3))
    for i in range(10):
        placed = (s.sources[i] >= 0).sum()
        assert 1 <= placed <= 3


# --------------------------------------------------------------------------- metrics

def test_iou_and_dice_by_hand():
    true = np.array([[0, 0, 0, 1], [1, 1, 2, 2]])
    pred = np.array([[0, 0, 1, 1], [1, 2, 2, 2]])
    counts = seg.confusion(true, pred, 4)
    assert counts[0].tolist() == [2, 1, 0, 0] and counts[1].tolist() == [0, 2, 1, 0] and counts[2].tolist() == [0, 0, 2, 0]
    iou, dice = seg.iou_dice(counts)
    # class 0: TP 2, FP 0, FN 1; class 1: TP 2, FP 1, FN 1; class 2: TP 2, FP 1, FN 0; class 3 absent
    assert iou[:3] == pytest.approx([2 / 3, 2 / 4, 2 / 3])
    assert dice[:3] == pytest.approx([4 / 5, 4 / 6, 4 / 5])
    assert np.isnan(iou[3]) and np.isnan(dice[3])
    m = seg.segmentation_metrics(counts, ("bg", "a", "b", "c"), mean_over=(1, 2, 3))
    assert m["pixel_accuracy"] == pytest.approx(6 / 8, abs=1e-4)
    assert m["mean_iou"] == pytest.approx((0.5 + 2 / 3) / 2, abs=1e-4)      # the absent class is left out
    assert m["iou"]["c"] is None and m["dice"]["a"] == pytest.approx(4 / 6, abs=1e-4)


def test_perfect_and_disjoint_predictions():
    true = np.array([[1, 1], [0, 0]])
    iou, dice = seg.iou_dice(seg.confusion(true, true, 2))
    assert iou.tolist() == [1.0, 1.0] and dice.tolist() == [1.0, 1.0]
    iou, dice = seg.iou_dice(seg.confusion(true, 1 - true, 2))
    assert iou.tolist() == [0.0, 0.0] and dice.tolist() == [0.0, 0.0]


def test_outcome_map_by_hand():
    true = np.array([[1, 1, 0, 0]])
    pred = np.array([[1, 0, 1, 0]])
    assert seg.outcome_map(true, pred, positive=1).tolist() == [[seg.TP, seg.FN, seg.FP, seg.TN]]
    assert seg.outcome_map(true, pred, positive=0).tolist() == [[seg.TN, seg.FP, seg.FN, seg.TP]]


# --------------------------------------------------------------------------- tiling

def box3(img):
    """A 3×3 mean (a local operation with a 1-pixel reach), channels last: (h, w) -> (h - 2, w - 2) padded back."""
    p = np.pad(img, 1, mode="edge")
    out = sum(p[i:i + img.shape[0], j:j + img.shape[1]] for i in range(3) for j in range(3)) / 9
    return out[..., None]


@pytest.mark.parametrize("shape", [(50, 70), (64, 64), (33, 100)])
@pytest.mark.parametrize("tile,margin", [(16, 4), (24, 2), (40, 8)])
def test_tiled_prediction_equals_the_direct_one(shape, tile, margin):
    img = np.random.default_rng(0).random(shape).astype(np.float32)
    tiled = seg.predict_tiled(box3, img, tile, margin)
    # the direct prediction on the same mirror-padded image: a 1-pixel operation never sees a tile's edge
    direct = box3(np.pad(img, margin, mode="reflect"))[margin:-margin, margin:-margin]
    assert tiled.shape == (*shape, 1)
    np.testing.assert_allclose(tiled, direct, atol=1e-6)
    ident = seg.predict_tiled(lambda t: t[..., None], img, tile, margin)
    assert np.array_equal(ident[..., 0], img)


def test_tiling_with_one_big_tile_is_one_call():
    img = np.random.default_rng(1).random((20, 30)).astype(np.float32)
    calls = []
    out = seg.predict_tiled(lambda t: calls.append(t.shape) or t[..., None] * 2, img, 64, 4)
    assert calls == [(28, 38)] and np.allclose(out[..., 0], img * 2)
    with pytest.raises(ValueError):
        seg.predict_tiled(box3, img, 8, 4)


def test_tile_starts_cover_the_length():
    assert seg.tile_starts(10, 4, 2) == [0, 2, 4, 6]
    assert seg.tile_starts(11, 4, 2) == [0, 2, 4, 6, 7]
    assert seg.tile_starts(3, 4, 2) == [0]


def test_pad_to_multiple():
    padded, size = seg.pad_to_multiple(np.ones((17, 32)), 16)
    assert padded.shape == (32, 32) and size == (17, 32) and padded[17:].sum() == 0


# --------------------------------------------------------------------------- augmentation

def test_bilinear_sample_by_hand_and_mirrors_at_the_border():
    img = np.array([[0, 10], [20, 30]], np.float32)
    assert seg.bilinear_sample(img, np.array([0.5]), np.array([0.5]))[0] == pytest.approx(15)
    assert seg.bilinear_sample(img, np.array([0.0]), np.array([0.25]))[0] == pytest.approx(2.5)
    # reflect: row -1 is row 1, column 2 is column 0
    assert seg.bilinear_sample(img, np.array([-1.0]), np.array([2.0]))[0] == pytest.approx(20)


def test_elastic_deformation_without_displacement_is_the_identity():
    rng = np.random.default_rng(0)
    img = rng.random((40, 30)).astype(np.float32)
    mask = (rng.random((40, 30)) > 0.5).astype(np.uint8)
    same, same_mask = seg.elastic_deform(img, mask, np.random.default_rng(1), sigma=0.0)
    np.testing.assert_allclose(same, img, atol=1e-6)
    assert np.array_equal(same_mask, mask)
    warped, warped_mask = seg.elastic_deform(img, mask, np.random.default_rng(1))
    assert not np.allclose(warped, img) and set(np.unique(warped_mask)) <= {0, 1}
    again, _ = seg.elastic_deform(img, mask, np.random.default_rng(1))
    assert np.array_equal(warped, again)


def test_membrane_crops_keep_image_and_mask_aligned():
    # a mask that is exactly "image is bright": any flip/rotation/deformation must keep that relation
    rng = np.random.default_rng(0)
    images = np.where(rng.random((3, 80, 80)) > 0.7, 250, 5).astype(np.uint8)
    images = np.kron(images[:, ::4, ::4], np.ones((1, 4, 4), np.uint8))      # 4×4 blocks: smooth enough to warp
    masks = (images > 128).astype(np.uint8)
    x, y = seg.membrane_crops(images, masks, 6, 32, np.random.default_rng(2))
    assert x.shape == y.shape == (6, 32, 32, 1) and x.dtype == np.float32
    assert 0 <= x.min() and x.max() <= 1 and set(np.unique(y)) <= {0.0, 1.0}
    agree = ((x >= 0.5) == (y >= 0.5)).mean()
    assert agree > 0.97


# --------------------------------------------------------------------------- the user's input

def test_prepare_digit_scene_inverts_scales_and_pads():
    page = np.full((300, 500), 230, np.uint8)      # light paper
    page[50:250, 60:90] = 20                        # two dark "digits", 200 pixels tall
    page[80:230, 300:340] = 30
    p = seg.prepare_digit_scene(page, multiple=16)
    assert p.inverted and p.scale == pytest.approx(seg.TARGET_INK_HEIGHT / 200)
    assert p.image.shape[0] % 16 == 0 and p.image.shape[1] % 16 == 0
    assert p.size == (round(300 * p.scale) + 12, round(500 * p.scale) + 12)     # + a 6-pixel margin all round
    assert p.image[:6].max() == 0 and p.image[:, :6].max() == 0
    assert seg.ink_height(p.image) == pytest.approx(seg.TARGET_INK_HEIGHT, abs=2)
    assert p.image.max() == pytest.approx(1.0, abs=0.05) and p.image[-1].max() == 0   # white ink on black
    rgb = np.repeat(page[..., None], 3, axis=2)
    assert np.allclose(seg.prepare_digit_scene(rgb, 16).image, p.image, atol=1e-2)


def test_prepare_digit_scene_empty_image_does_not_crash():
    p = seg.prepare_digit_scene(np.zeros((64, 64), np.uint8), multiple=16)
    assert p.image.shape == (80, 80) and p.image.max() == 0


def test_map_previews_keep_little_and_say_the_full_shape():
    """What the U-Net page keeps between reruns: block means of the first 16 maps, never a view of the full maps."""
    rng = np.random.default_rng(0)
    maps = {"down0": rng.random((512, 512, 8), dtype=np.float32), "down3": rng.random((64, 64, 64), dtype=np.float32)}
    previews = seg.preview_maps(maps, side=128, channels=16)
    big, small = previews["down0"], previews["down3"]
    assert big.shape == (512, 512, 8) and small.shape == (64, 64, 64)
    assert big.shown.shape == (128, 128, 8) and small.shown.shape == (64, 64, 16)
    np.testing.assert_allclose(big.shown[0, 0], maps["down0"][:4, :4].mean(axis=(0, 1)), rtol=1e-6)
    np.testing.assert_array_equal(small.shown, maps["down3"][..., :16])
    assert not np.shares_memory(small.shown, maps["down3"])
    kept = sum(p.shown.nbytes for p in previews.values())
    assert kept < sum(m.nbytes for m in maps.values()) / 8
    result = seg.Segmentation(np.zeros((4, 4, 2), np.float32), maps).without_maps()
    assert result.maps == {} and result.probs.shape == (4, 4, 2)

"""ArcMarginHead: hand-computed logits on a 2-D toy case, fallback, sub-centres, gradients."""
import math

import pytest
import torch
import torch.nn.functional as F

from asd_lib.losses import HEADS
from asd_lib.losses.arcface import ArcMarginHead

M, S = 0.5, 30.0


def head_with_angles(angles, sub_centers=1, margin=M, easy_margin=False, eps=1e-7):
    """A head in 2-D whose weight rows point at ``angles`` (radians), with varied norms."""
    num_classes = len(angles) // sub_centers
    head = ArcMarginHead(2, num_classes, margin=margin, scale=S, easy_margin=easy_margin,
                         sub_centers=sub_centers, eps=eps)
    rows = [[(1.0 + i) * math.cos(a), (1.0 + i) * math.sin(a)] for i, a in enumerate(angles)]
    with torch.no_grad():
        head.weight.copy_(torch.tensor(rows, dtype=torch.float64))
    return head.double()


# embedding along the x axis (norm 2: the head must normalise it)
EMB = torch.tensor([[2.0, 0.0]], dtype=torch.float64)
ANGLES = [0.3, 1.0, 2.9]


def test_registered():
    assert HEADS.get("arcface") is ArcMarginHead


def test_no_labels_gives_scaled_cosine():
    logits = head_with_angles(ANGLES)(EMB)
    expected = [30 * math.cos(0.3), 30 * math.cos(1.0), 30 * math.cos(2.9)]
    assert logits.tolist()[0] == pytest.approx(expected, abs=1e-5)


def test_margin_at_label_only():
    head = head_with_angles(ANGLES)
    logits = head(EMB, torch.tensor([0]))
    # theta_0 = 0.3, theta_0 + m = 0.8 < pi: cos(0.8); other classes untouched
    expected = [30 * math.cos(0.8), 30 * math.cos(1.0), 30 * math.cos(2.9)]
    assert logits.tolist()[0] == pytest.approx(expected, abs=1e-5)
    logits = head(EMB, torch.tensor([1]))
    expected = [30 * math.cos(0.3), 30 * math.cos(1.5), 30 * math.cos(2.9)]
    assert logits.tolist()[0] == pytest.approx(expected, abs=1e-5)


def test_fallback_when_theta_plus_margin_exceeds_pi():
    head = head_with_angles(ANGLES)
    logits = head(EMB, torch.tensor([2]))
    # theta_2 + m = 3.4 > pi: cos(theta) - m * sin(m), not cos(3.4)
    fallback = 30 * (math.cos(2.9) - 0.5 * math.sin(0.5))
    assert logits[0, 2].item() == pytest.approx(fallback, abs=1e-5)
    assert logits[0, 2].item() != pytest.approx(30 * math.cos(3.4), abs=1e-2)
    # just inside the bound (theta = pi - m - 0.01) the true cos(theta + m) is kept
    inside = head_with_angles([0.3, math.pi - 0.51])(EMB, torch.tensor([1]))
    assert inside[0, 1].item() == pytest.approx(30 * math.cos(math.pi - 0.01), abs=1e-5)


def test_easy_margin():
    head = head_with_angles([1.0, 2.0], easy_margin=True)
    assert head(EMB, torch.tensor([0]))[0, 0].item() == pytest.approx(30 * math.cos(1.5), abs=1e-5)
    # cos(2.0) < 0: no margin at all
    assert head(EMB, torch.tensor([1]))[0, 1].item() == pytest.approx(30 * math.cos(2.0), abs=1e-5)


def test_sub_centres_take_max():
    # class 0 centres at 1.2 and 0.2 rad, class 1 centres at 2.0 and 2.5 rad
    head = head_with_angles([1.2, 0.2, 2.0, 2.5], sub_centers=2)
    assert head(EMB).tolist()[0] == pytest.approx(
        [30 * math.cos(0.2), 30 * math.cos(2.0)], abs=1e-5)
    # margin is added to the nearest sub-centre's angle
    assert head(EMB, torch.tensor([0])).tolist()[0] == pytest.approx(
        [30 * math.cos(0.7), 30 * math.cos(2.0)], abs=1e-5)


@pytest.mark.parametrize("label", [0, 1])
def test_gradient_finite_at_cos_plus_minus_one(label):
    # class 0 exactly along the embedding (cos = 1), class 1 opposite (cos = -1)
    head = ArcMarginHead(2, 2, margin=M, scale=S)
    with torch.no_grad():
        head.weight.copy_(torch.tensor([[1.0, 0.0], [-1.0, 0.0]]))
    emb = torch.tensor([[1.0, 0.0]], requires_grad=True)
    logits = head(emb, torch.tensor([label]))
    assert torch.isfinite(logits).all()
    # the clamp to 1 - eps moves cos(0 + m) by about s * sqrt(2 eps) * sin(m) = 0.007
    assert logits[0, 0].item() == pytest.approx(30 * (1 - 1e-7) if label == 1
                                                else 30 * math.cos(0.5), abs=2e-2)
    F.cross_entropy(logits, torch.tensor([label])).backward()
    assert torch.isfinite(emb.grad).all()
    assert torch.isfinite(head.weight.grad).all()


def test_bad_labels_raise():
    head = ArcMarginHead(4, 3)
    with pytest.raises(ValueError, match="labels must lie"):
        head(torch.randn(2, 4), torch.tensor([0, 3]))
    with pytest.raises(ValueError, match="shape"):
        head(torch.randn(2, 4), torch.tensor([[0, 1]]))

"""Exercise 1 reference (numpy basics, the perceptron) and its data generator, against
hand-computed cases, closed forms and the rubric's thresholds."""

from __future__ import annotations

import csv
import statistics
from pathlib import Path

import numpy as np
import pytest

from reference import ex01, ex01_data

# The separating line stated in ex01_data's docstring: -0.4 + x1 + 2 x2 = 0.
LINE = (-0.4, 1.0, 2.0)


def _signed_distance(X: np.ndarray) -> np.ndarray:
    b, a1, a2 = LINE
    return (b + a1 * X[:, 0] + a2 * X[:, 1]) / np.hypot(a1, a2)


# ---------------------------------------------------------------- numpy basics


def test_add_bias_hand_computed() -> None:
    X = np.array([[2.0, -1.0], [0.5, 3.0], [7.0, 0.0]])
    expected = np.array([[1.0, 2.0, -1.0], [1.0, 0.5, 3.0], [1.0, 7.0, 0.0]])
    out = ex01.add_bias(X)
    np.testing.assert_array_equal(out, expected)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(X, [[2.0, -1.0], [0.5, 3.0], [7.0, 0.0]])  # not modified


def test_add_bias_rejects_a_vector() -> None:
    with pytest.raises(ValueError):
        ex01.add_bias(np.zeros(3))


def test_standardize_matches_statistics_module() -> None:
    X = np.random.default_rng(0).normal(3.0, 2.0, size=(9, 3))
    out = ex01.standardize(X)
    assert out.shape == X.shape
    for j in range(X.shape[1]):
        column = [float(v) for v in X[:, j]]
        mean, std = statistics.fmean(column), statistics.pstdev(column)
        np.testing.assert_allclose(out[:, j], [(v - mean) / std for v in column], rtol=1e-12)
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-14)
    np.testing.assert_allclose(out.std(axis=0), 1.0, rtol=1e-12)


def test_standardize_is_per_column_not_global() -> None:
    X = np.array([[0.0, 100.0], [2.0, 300.0]])
    np.testing.assert_allclose(ex01.standardize(X), [[-1.0, -1.0], [1.0, 1.0]])


# ---------------------------------------------------------------- prediction


def test_predict_hand_computed_with_bias_and_tie() -> None:
    w = np.array([-1.0, 2.0, 0.5])
    X = np.array([[1.0, 0.0], [0.0, 0.0], [0.5, 0.0], [0.0, 4.0], [0.0, 1.0]])
    # activations: 1, -1, 0 (a tie: class 1), 1, -0.5
    out = ex01.predict(w, X)
    assert out.dtype == np.int64
    assert out.tolist() == [1, 0, 1, 1, 0]


def test_predict_uses_the_bias() -> None:
    X = np.array([[0.1, 0.1]])
    assert ex01.predict(np.array([-1.0, 1.0, 1.0]), X).tolist() == [0]
    assert ex01.predict(np.array([0.0, 1.0, 1.0]), X).tolist() == [1]


def test_accuracy_hand_computed() -> None:
    w = np.array([0.0, 1.0])
    X = np.array([[1.0], [-1.0], [2.0], [-3.0]])  # predictions 1, 0, 1, 0
    assert ex01.accuracy(w, X, np.array([1, 1, 1, 0])) == pytest.approx(0.75)
    assert isinstance(ex01.accuracy(w, X, np.array([1, 0, 1, 0])), float)


# ---------------------------------------------------------------- learning rule


def test_train_perceptron_two_hand_computed_epochs() -> None:
    X = np.array([[1.0, 1.0], [-1.0, 2.0]])
    t = np.array([0, 1])
    w0 = np.array([0.0, 0.0, 0.0])
    # epoch 1, sample 1: a = 0 -> y = 1, t = 0: w = 0 - 0.5 (1, 1, 1) = (-.5, -.5, -.5)
    #          sample 2: a = -.5 + .5 - 1 = -1 -> y = 0, t = 1: w += .5 (1, -1, 2) = (0, -1, .5)
    # epoch 2, sample 1: a = 0 - 1 + .5 = -.5 -> y = 0 = t: unchanged
    #          sample 2: a = 0 + 1 + 1 = 2 -> y = 1 = t: unchanged
    np.testing.assert_allclose(ex01.train_perceptron(X, t, w0, 0.5, 1), [0.0, -1.0, 0.5])
    np.testing.assert_allclose(ex01.train_perceptron(X, t, w0, 0.5, 2), [0.0, -1.0, 0.5])
    np.testing.assert_array_equal(w0, [0.0, 0.0, 0.0])  # not modified


def test_train_perceptron_zero_epochs_returns_a_copy() -> None:
    w0 = np.array([0.3, -0.2])
    w = ex01.train_perceptron(np.ones((3, 1)), np.array([1, 0, 1]), w0, 0.1, 0)
    np.testing.assert_array_equal(w, w0)
    assert w is not w0


def test_train_perceptron_matches_a_scalar_loop_on_random_data() -> None:
    rng = np.random.default_rng(5)
    X = rng.normal(size=(15, 3))
    t = rng.integers(0, 2, size=15)
    w = [0.1, -0.2, 0.3, 0.05]
    eta = 0.3
    for _ in range(4):
        for n in range(15):
            x = [1.0, *X[n].tolist()]
            y = 1 if sum(wi * xi for wi, xi in zip(w, x, strict=True)) >= 0 else 0
            w = [wi + eta * (int(t[n]) - y) * xi for wi, xi in zip(w, x, strict=True)]
    np.testing.assert_allclose(ex01.train_perceptron(X, t, [0.1, -0.2, 0.3, 0.05], eta, 4), w, rtol=1e-12)


def test_train_perceptron_separates_separable_data() -> None:
    X, t = ex01_data.separable_data(np.random.default_rng(2), 60, margin=0.15)
    w = ex01.train_perceptron(X, t, np.zeros(3), 0.1, 100)
    assert ex01.accuracy(w, X, t) == 1.0
    # converged: one more epoch changes nothing
    np.testing.assert_array_equal(ex01.train_perceptron(X, t, w, 0.1, 1), w)


# ---------------------------------------------------------------- data


def test_folder_is_a_csv_with_header(tmp_path: Path) -> None:
    ex01_data.write_perceptron_folder(tmp_path, n=100, margin=0.1, seed=8)
    with open(tmp_path / "train.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["x1", "x2", "t"]
    assert len(rows) == 101
    data = np.loadtxt(tmp_path / "train.csv", delimiter=",", skiprows=1)
    assert data.shape == (100, 3)
    assert set(np.unique(data[:, 2])) == {0.0, 1.0}
    counts = np.bincount(data[:, 2].astype(int))
    assert counts.min() >= 20  # both classes well represented
    assert np.all(np.abs(data[:, :2]) <= 1.0)


def test_folder_labels_follow_the_documented_line_with_a_margin(tmp_path: Path) -> None:
    ex01_data.write_perceptron_folder(tmp_path, n=100, margin=0.1, seed=8)
    data = np.loadtxt(tmp_path / "train.csv", delimiter=",", skiprows=1)
    distance = _signed_distance(data[:, :2])
    assert np.all(np.abs(distance) >= 0.1)
    np.testing.assert_array_equal(data[:, 2], (distance >= 0).astype(float))


def test_folder_is_deterministic(tmp_path: Path) -> None:
    for name, seed in (("a", 8), ("b", 8), ("c", 9)):
        ex01_data.write_perceptron_folder(tmp_path / name, seed=seed)
    first = (tmp_path / "a" / "train.csv").read_bytes()
    assert first == (tmp_path / "b" / "train.csv").read_bytes()
    assert first != (tmp_path / "c" / "train.csv").read_bytes()


def test_hidden_set_shapes_labels_and_determinism() -> None:
    X, t = ex01_data.hidden_separable(np.random.default_rng(4), n=300, margin=0.1)
    assert X.shape == (300, 2) and t.shape == (300,)
    distance = _signed_distance(X)
    assert np.all(np.abs(distance) >= 0.1)
    np.testing.assert_array_equal(t, (distance >= 0).astype(float))
    X2, t2 = ex01_data.hidden_separable(np.random.default_rng(4), n=300, margin=0.1)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(t, t2)


def test_rubric_threshold_has_a_clear_margin(tmp_path: Path) -> None:
    """The notebook's training (w = 0, eta = 0.1, 20 epochs) stays far below the rubric's
    error rate 0.02 on hidden sets; a single epoch stays far above it."""
    ex01_data.write_perceptron_folder(tmp_path, n=100, margin=0.1, seed=8)
    data = np.loadtxt(tmp_path / "train.csv", delimiter=",", skiprows=1)
    X, t = data[:, :2], data[:, 2].astype(int)
    trained = ex01.train_perceptron(X, t, np.zeros(3), 0.1, 20)
    one_epoch = ex01.train_perceptron(X, t, np.zeros(3), 0.1, 1)
    assert ex01.accuracy(trained, X, t) == 1.0
    for seed in range(10):
        Xh, th = ex01_data.hidden_separable(np.random.default_rng(seed), n=2000, margin=0.1)
        assert 1 - ex01.accuracy(trained, Xh, th) < 0.01
        assert 1 - ex01.accuracy(one_epoch, Xh, th) > 0.03

"""Stability classes and benchmark scores, checked against scikit-learn and scipy."""

from __future__ import annotations

import numpy as np
import pytest

from latticebench.analysis.metrics import (
    ANHARMONICITY_CLASSES,
    StabilityThresholds,
    anharmonicity_class,
    bootstrap_ci,
    classification_metrics,
    confusion_matrix,
    is_stable,
    metrics_with_ci,
    regression_metrics,
)

sklearn_metrics = pytest.importorskip("sklearn.metrics")
CLASSES = ["weak", "moderate", "strong", "unstable"]


def test_class_boundaries_are_inclusive_from_below():
    sigma = [0.0, 0.5, 0.5000001, 0.75, 0.7500001, 1.0, 1.0000001, 3.2]
    expected = ["weak", "weak", "moderate", "moderate", "strong", "strong", "unstable", "unstable"]
    assert anharmonicity_class(sigma).tolist() == expected
    assert is_stable(sigma).tolist() == [True] * 6 + [False] * 2
    assert anharmonicity_class(0.75).tolist() == "moderate"
    assert bool(is_stable(1.0)) is True


def test_thresholds_are_configuration():
    strict = StabilityThresholds(stable_max=0.9, weak_max=0.4, moderate_max=0.6, strong_max=0.9)
    assert strict.as_dict() == {
        "stable_max": 0.9,
        "weak_max": 0.4,
        "moderate_max": 0.6,
        "strong_max": 0.9,
    }
    assert anharmonicity_class([0.45, 0.95], strict).tolist() == ["moderate", "unstable"]
    assert is_stable([0.95], strict).tolist() == [False]
    with pytest.raises(ValueError, match="weak_max <= moderate_max <= strong_max"):
        StabilityThresholds(weak_max=0.8)
    with pytest.raises(ValueError, match="positive finite"):
        StabilityThresholds(stable_max=float("nan"))


def test_invalid_sigma_names_its_index():
    with pytest.raises(ValueError, match=r"sigma\[2\] = nan"):
        anharmonicity_class([0.2, 0.3, np.nan])
    with pytest.raises(ValueError, match=r"sigma\[1, 0\] = -0.1"):
        is_stable([[0.2], [-0.1]])


@pytest.fixture
def labelled(rng):
    y_true = rng.choice(CLASSES, size=120, p=[0.4, 0.3, 0.2, 0.1])
    y_pred = np.where(rng.uniform(size=120) < 0.6, y_true, rng.choice(CLASSES, size=120))
    return y_true, y_pred


def test_multiclass_metrics_equal_sklearn(labelled):
    y_true, y_pred = labelled
    result = classification_metrics(y_true, y_pred, labels=CLASSES)
    assert result["average"] == "macro"
    assert result["accuracy"] == pytest.approx(sklearn_metrics.accuracy_score(y_true, y_pred))
    for key, function in (
        ("precision", sklearn_metrics.precision_score),
        ("recall", sklearn_metrics.recall_score),
        ("f1", sklearn_metrics.f1_score),
    ):
        expected = function(y_true, y_pred, labels=CLASSES, average="macro", zero_division=0)
        assert result[key] == pytest.approx(expected, abs=1e-14), key
    assert result["mcc"] == pytest.approx(sklearn_metrics.matthews_corrcoef(y_true, y_pred))
    assert result["confusion"] == (
        sklearn_metrics.confusion_matrix(y_true, y_pred, labels=CLASSES).tolist()
    )
    assert result["n"] == 120


def test_binary_metrics_equal_sklearn(rng):
    y_true = rng.choice(["stable", "unstable"], size=80, p=[0.7, 0.3])
    y_pred = np.where(rng.uniform(size=80) < 0.75, y_true, rng.choice(["stable", "unstable"], 80))
    labels = ["stable", "unstable"]
    result = classification_metrics(y_true, y_pred, labels=labels, positive="unstable")
    assert result["average"] == "binary"
    kwargs = {"pos_label": "unstable", "zero_division": 0}
    assert result["precision"] == pytest.approx(
        sklearn_metrics.precision_score(y_true, y_pred, **kwargs)
    )
    assert result["recall"] == pytest.approx(sklearn_metrics.recall_score(y_true, y_pred, **kwargs))
    assert result["f1"] == pytest.approx(sklearn_metrics.f1_score(y_true, y_pred, **kwargs))
    assert result["mcc"] == pytest.approx(sklearn_metrics.matthews_corrcoef(y_true, y_pred))
    tn, fp, fn, tp = sklearn_metrics.confusion_matrix(y_true, y_pred, labels=labels).ravel()
    assert result["confusion"] == [[tn, fp], [fn, tp]]


def test_zero_division_gives_zero_like_sklearn():
    y_true = np.array(["stable", "unstable", "stable", "unstable"])
    y_pred = np.array(["stable", "stable", "stable", "stable"])  # never predicts "unstable"
    result = classification_metrics(
        y_true, y_pred, labels=["stable", "unstable"], positive="unstable"
    )
    assert result["precision"] == 0.0
    assert result["recall"] == 0.0
    assert result["f1"] == 0.0
    assert result["mcc"] == 0.0 == sklearn_metrics.matthews_corrcoef(y_true, y_pred)
    # macro average over labels including one that never occurs ("strong")
    y_true = np.array(["weak", "weak", "moderate", "unstable"])
    y_pred = np.array(["weak", "moderate", "moderate", "weak"])
    result = classification_metrics(y_true, y_pred, labels=CLASSES)
    for key, function in (
        ("precision", sklearn_metrics.precision_score),
        ("recall", sklearn_metrics.recall_score),
        ("f1", sklearn_metrics.f1_score),
    ):
        expected = function(y_true, y_pred, labels=CLASSES, average="macro", zero_division=0)
        assert result[key] == pytest.approx(expected, abs=1e-14), key


def test_classification_input_errors():
    with pytest.raises(ValueError, match=r"y_pred\[1\] = 'huge' is not one of labels"):
        classification_metrics(["weak", "weak"], ["weak", "huge"], labels=CLASSES)
    with pytest.raises(ValueError, match="positive label 'bad'"):
        classification_metrics(["weak"], ["weak"], labels=CLASSES, positive="bad")
    with pytest.raises(ValueError, match="same length, got 2 and 1"):
        confusion_matrix(["weak", "weak"], ["weak"], CLASSES)


def test_regression_metrics_equal_sklearn_and_scipy(rng):
    from scipy.stats import spearmanr

    true = rng.uniform(0.1, 1.8, size=60)
    pred = true + rng.normal(scale=0.15, size=60)
    result = regression_metrics(true, pred)
    assert result["n"] == 60
    assert result["mae"] == pytest.approx(sklearn_metrics.mean_absolute_error(true, pred))
    assert result["rmse"] == pytest.approx(np.sqrt(sklearn_metrics.mean_squared_error(true, pred)))
    assert result["r2"] == pytest.approx(sklearn_metrics.r2_score(true, pred), rel=1e-12)
    assert result["spearman"] == pytest.approx(spearmanr(true, pred).statistic, rel=1e-12)
    assert result["mean_signed_error"] == pytest.approx(np.mean(pred - true))
    constant = np.full(5, 0.7)
    assert regression_metrics(constant, constant)["r2"] == sklearn_metrics.r2_score(
        constant, constant
    )
    assert regression_metrics(constant, constant + 0.1)["r2"] == sklearn_metrics.r2_score(
        constant, constant + 0.1
    )
    assert np.isnan(regression_metrics(constant, pred[:5])["spearman"])
    with pytest.raises(ValueError, match=r"pred holds a non-finite value \(nan\) at index \(1,\)"):
        regression_metrics(true[:3], [0.1, np.nan, 0.3])


def test_bootstrap_is_paired_reproducible_and_brackets_the_estimate(rng):
    true = rng.uniform(0.1, 1.8, size=150)
    pred = true + rng.normal(scale=0.2, size=150)

    def mae(a, b):
        return float(np.mean(np.abs(a - b)))

    estimate, low, high = bootstrap_ci(mae, true, pred, n_resamples=400, seed=3)
    assert estimate == mae(true, pred)
    assert low < estimate < high
    assert bootstrap_ci(mae, true, pred, n_resamples=400, seed=3) == (estimate, low, high)
    other = bootstrap_ci(mae, true, pred, n_resamples=400, seed=4)
    assert other[0] == estimate
    assert other[1:] != (low, high)
    # paired: resampling rows together keeps identical arrays identical (MAE exactly 0)
    assert bootstrap_ci(mae, true, true.copy(), n_resamples=50) == (0.0, 0.0, 0.0)
    # the interval matches an independent percentile computation on the same indices
    indices = np.random.default_rng(3).integers(0, 150, size=(400, 150))
    values = [mae(true[i], pred[i]) for i in indices]
    np.testing.assert_allclose((low, high), np.percentile(values, [2.5, 97.5]), rtol=1e-14)
    with pytest.raises(ValueError, match="one common length"):
        bootstrap_ci(mae, true, pred[:-1])


def test_metrics_with_ci_reports_every_score_with_an_interval(rng):
    true = rng.uniform(0.1, 1.6, size=90)
    pred = np.clip(true + rng.normal(scale=0.15, size=90), 0.0, None)
    result = metrics_with_ci(true, pred, n_resamples=200, seed=1)
    assert result["n"] == 90
    assert result["thresholds"] == StabilityThresholds().as_dict()
    point = regression_metrics(true, pred)
    for key in ("mae", "rmse", "r2", "spearman"):
        entry = result["regression"][key]
        assert entry["value"] == point[key]
        assert entry["low"] <= entry["value"] <= entry["high"], key
    stability = result["stability"]
    assert stability["labels"] == ["stable", "unstable"]
    assert stability["positive"] == "unstable"
    expected_mcc = sklearn_metrics.matthews_corrcoef(true <= 1.0, pred <= 1.0)
    assert stability["mcc"]["value"] == pytest.approx(expected_mcc)
    classes = result["anharmonicity_class"]
    assert classes["labels"] == list(ANHARMONICITY_CLASSES)
    expected_accuracy = sklearn_metrics.accuracy_score(
        anharmonicity_class(true), anharmonicity_class(pred)
    )
    assert classes["accuracy"]["value"] == pytest.approx(expected_accuracy)
    assert classes["accuracy"]["low"] < classes["accuracy"]["high"]
    assert metrics_with_ci(true, pred, n_resamples=200, seed=1) == result
    with pytest.raises(ValueError, match=r"pred_sigma\[4\] = nan"):
        metrics_with_ci(true[:5], [0.1, 0.2, 0.3, 0.4, np.nan])

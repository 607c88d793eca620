"""A surrogate of the table: F1 and AUPRC of any configuration at any point of its schedule.

Inputs are the searched parameters, each scaled to [0, 1] over its distribution (log scale where
the distribution is; categoricals one-hot), and the evaluation's place in the run's own schedule
(step / total steps). Two scikit-learn models are fitted, a random forest and distance-weighted
k-nearest neighbours, and the one with the smaller error on configurations held out of its fit
(5 folds by configuration: every evaluation of every run of a held-out configuration, all its
training seeds, is held out) is kept, as YAHPO Gym and Syne Tune's
surrogate blackboxes choose theirs. Costs come from a forest on the same parameters: a run's
train seconds, predicted as a whole and spread over its steps, plus its per-evaluation seconds.

Replays see the model's mean. On request (``noise``, :mod:`search.simulate._noise`) each
simulated trial adds an offset curve drawn by the replay's seed: a held-out residual curve, or a
repeated-seed run's deviation from its configuration's mean.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from sklearn.ensemble import RandomForestRegressor
from sklearn.model_selection import GroupKFold
from sklearn.neighbors import KNeighborsRegressor

from common._cli import UserError
from search.simulate import _noise as noises
from search.simulate._table import Curve, Table

FOLDS = 5


def candidates() -> dict[str, Any]:
    """The models compared by held-out error (small enough to predict in about a millisecond)."""
    return {
        "random_forest": RandomForestRegressor(n_estimators=40, min_samples_leaf=2, random_state=0),
        "knn": KNeighborsRegressor(n_neighbors=5, weights="distance"),
    }


def encode(params: dict[str, Any], distributions: dict[str, BaseDistribution]) -> list[float]:
    """One configuration as numbers in [0, 1], in ``distributions``' order."""
    out: list[float] = []
    for name, dist in distributions.items():
        value = params.get(name)
        if isinstance(dist, CategoricalDistribution):
            out += [float(value == choice) for choice in dist.choices]
        elif isinstance(dist, (FloatDistribution, IntDistribution)):
            low, high, x = float(dist.low), float(dist.high), float(value)
            if dist.log:
                low, high, x = math.log(low), math.log(high), math.log(x)
            out.append((x - low) / (high - low) if high > low else 0.0)
    return out


def curve_rows(table: Table) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inputs (params + fraction), targets (F1, AUPRC) and trial index of every evaluation."""
    xs, ys, groups = [], [], []
    for i, curve in enumerate(table.curves):
        base = encode(curve.params, table.distributions)
        for fraction, row in zip(curve.fractions, curve.evals, strict=True):
            xs.append([*base, fraction])
            ys.append(row[3:5])
            groups.append(i)
    return np.array(xs), np.array(ys), np.array(groups)


@dataclass
class Surrogate:
    table: Table
    model_name: str
    model: Any
    cost_model: Any
    error: dict[str, Any]
    residuals: noises.Pool = field(repr=False)
    exact: dict[tuple, Curve] = field(repr=False)
    noise: str = "none"

    def draw(
        self, params: dict[str, Any], rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """An offset curve for one simulated run of ``params`` (None without noise)."""
        if not self.residuals:
            return None
        level = float(self.predict(params, np.array([1.0]))[0, 0])
        return noises.draw(self.residuals, level, rng)

    def predict(self, params: dict[str, Any], fractions: np.ndarray) -> np.ndarray:
        """(n, 2) F1 and AUPRC at ``fractions`` of the run's schedule (the model's mean)."""
        base = encode(params, self.table.distributions)
        x = np.array([[*base, f] for f in fractions])
        return fast_predict(self.model, x)

    def train_seconds(self, params: dict[str, Any]) -> tuple[float, float]:
        """(train seconds of the whole run, seconds of one evaluation)."""
        x = np.array([encode(params, self.table.distributions)])
        log_train, log_eval = fast_predict(self.cost_model, x)[0]
        return float(math.exp(log_train)), float(math.exp(log_eval))

    def reference_f1(self) -> float:
        """The table's best F1 as the replays see it: the best of the model's curves at the
        table's own configurations (the recorded best may lie above what any model reproduces)."""
        return max(float(self.predict(c.params, c.fractions)[:, 0].max()) for c in self.table.full)

    def lookup(self, params: dict[str, Any]) -> Curve | None:
        """The table's own run of exactly this configuration, if it has one."""
        return self.exact.get(_key(params))


def fast_predict(model: Any, x: np.ndarray) -> np.ndarray:
    """``model.predict(x)``; a forest's trees are asked directly, without joblib's dispatch
    (about 40x faster for the few rows a replayed run asks for, the same numbers)."""
    if isinstance(model, RandomForestRegressor):
        x32 = np.asarray(x, dtype=np.float32)
        total = sum(tree.tree_.predict(x32) for tree in model.estimators_)
        return (total / len(model.estimators_)).reshape(len(x), -1)
    if isinstance(model, KNeighborsRegressor):
        return _knn_predict(model, np.asarray(x, dtype=float))
    return model.predict(x)


def _knn_predict(model: KNeighborsRegressor, x: np.ndarray) -> np.ndarray:
    """Distance-weighted k-NN in NumPy: scikit-learn's answer without its thread pool, which on
    a busy machine costs a hundred times the arithmetic for a few rows."""
    train, y = model._fit_X, model._y.reshape(len(model._fit_X), -1)
    distances = np.sqrt(((x[:, None, :] - train[None, :, :]) ** 2).sum(axis=2))
    nearest = np.argsort(distances, axis=1, kind="stable")[:, : model.n_neighbors]
    d = np.take_along_axis(distances, nearest, axis=1)
    with np.errstate(divide="ignore"):
        weights = 1.0 / d
    exact = np.isinf(weights)
    rows = exact.any(axis=1)
    weights[rows] = exact[rows].astype(float)  # a point at distance 0 decides alone
    return np.einsum("nk,nkj->nj", weights, y[nearest]) / weights.sum(axis=1, keepdims=True)


def fit(table: Table, noise: bool | str = False) -> Surrogate:
    """Compare the candidates by held-out error, keep the better, refit it on the whole table.

    With ``noise`` replays add residual curves to the model's mean (see the module docstring).
    """
    x, y, groups = curve_rows(table)
    # folds by configuration: a run's other training seeds are held out with it, or the error
    # would be that of predicting a configuration the model has seen
    ids: dict[tuple, int] = {}
    config = np.array([ids.setdefault(_key(c.params), len(ids)) for c in table.curves])[groups]
    errors, oof = {}, {}
    for name, model in candidates().items():
        oof[name] = _out_of_fold(model, x, y, config)
        errors[name] = _errors(oof[name], y, groups, table)
    best = min(errors, key=lambda name: errors[name]["mae_f1"] + errors[name]["mae_auprc"])
    model = candidates()[best].fit(x, y)
    mode = noises.mode_of(noise)
    residuals: noises.Pool = []
    if mode == "residual":
        residuals = noises.residual_pool(x, y - oof[best], oof[best], groups)
    elif mode == "seeds":
        residuals = noises.seed_pool(list(table.full), _key)
        if not residuals:
            raise UserError(f"--noise seeds: table {table.name} has no repeated-seed runs")
    error = {
        "model": best,
        "held_out": f"{FOLDS} folds by configuration ({len(ids)} configurations, "
        f"{len(table.curves)} runs, {len(x)} evaluations)",
        **errors[best],
        "candidates": errors,
    }
    exact = {_key(c.params): c for c in table.full}
    error["noise"] = {"mode": mode, "curves": len(residuals)}
    if mode == "seeds":
        error["noise"]["final_f1_sd"] = round(float(np.std([r[1][-1, 0] for r in residuals])), 3)
    return Surrogate(table, best, model, _fit_costs(table), error, residuals, exact, mode)


def _out_of_fold(model: Any, x: np.ndarray, y: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Each row predicted by a model fitted without any evaluation of its own trial."""
    predicted = np.empty_like(y)
    folds = GroupKFold(n_splits=min(FOLDS, len(set(groups.tolist()))))
    for train, test in folds.split(x, y, groups):
        predicted[test] = model.fit(x[train], y[train]).predict(x[test])
    return predicted


def _errors(predicted, y, groups, table: Table) -> dict[str, float]:
    """Mean absolute error over all held-out evaluations and over each full run's last one."""
    last = np.array(
        [
            (i == len(groups) - 1 or groups[i + 1] != groups[i])
            and not table.curves[groups[i]].partial
            for i in range(len(groups))
        ]
    )
    err = np.abs(predicted - y)
    return {
        "mae_f1": round(float(err[:, 0].mean()), 3),
        "mae_auprc": round(float(err[:, 1].mean()), 3),
        "mae_final_f1": round(float(err[last, 0].mean()), 3),
        "mae_final_auprc": round(float(err[last, 1].mean()), 3),
    }


def _fit_costs(table: Table) -> RandomForestRegressor:
    """Log train seconds of a whole run and log seconds of one evaluation, from the parameters."""
    x = np.array([encode(c.params, table.distributions) for c in table.full])
    y = []
    for c in table.full:
        total, n = float(c.evals[-1, 1]), len(c.evals)
        train = max(total - n * c.eval_seconds, 1e-3)
        y.append([math.log(train), math.log(max(c.eval_seconds, 1e-4))])
    return RandomForestRegressor(n_estimators=40, min_samples_leaf=2, random_state=0).fit(x, y)


def _key(params: dict[str, Any]) -> tuple:
    return tuple(
        sorted((k, round(v, 12) if isinstance(v, float) else v) for k, v in params.items())
    )

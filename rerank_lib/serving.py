"""The fast serving path: a ranker's weights exported to NumPy, scored and sorted per request (notebook 12).

Calling TensorFlow for one request of K candidates costs far more than the arithmetic:
Keras `Model.predict` builds a dataset and a loop for every call (tens of milliseconds),
and even a compiled `tf.function` pays for converting the inputs and dispatching ops
(a few hundred microseconds). The models are small (an MLP of 12 -> 32 -> 16 -> 1 units
is about 1,000 weights), so the fastest way to serve them is a NumPy forward pass over
copies of the weights (`python -m rerank_lib bench speed` measures all of these):

    scorer = NumpyScorer.from_ranker(learner.ranker)    # export: copies the weights
    order = scorer.rank(inputs)                          # RankingInputs -> display order (n, K)
    scorer.refresh()                                     # after the learner has updated: copy again

The scores equal the TensorFlow ranker's (`OnlineLearner.score`) up to float32 rounding,
for LinearRanker, MLPRanker and HybridRanker (ArticleRanker is not exported). The scorer
holds a snapshot: the learner keeps training its own variables, and `refresh()` (a copy of
about 1,000 floats for the MLP) makes the new weights live, e.g. after every optimizer step
or every few seconds in a service that learns in the background.

Inputs are checked cheaply before any arithmetic: shapes, dtypes, finite features and
ids inside the tables, with errors that name the field. Masked candidates get -inf and go
last; ties keep the input (BM25) order, as in `OnlineLearner.rank`.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

__all__ = ["NumpyScorer", "export_weights"]

_ID_FIELDS = ("shopper_ids", "product_ids", "category_ids", "brand_ids", "price_band_ids")


def export_weights(ranker) -> dict:
    """The ranker's kind and its weights as float32 NumPy arrays (a copy)."""
    from rerank_lib.rankers import HybridRanker, LinearRanker, MLPRanker

    copy = lambda variable: np.array(variable.numpy(), np.float32)  # noqa: E731
    if isinstance(ranker, LinearRanker):
        return {"kind": "linear", "w": copy(ranker.w), "bias": copy(ranker.bias)}
    if isinstance(ranker, MLPRanker):
        return {"kind": "mlp", "layers": [(copy(w), copy(b)) for w, b in zip(ranker.stack.weights, ranker.stack.biases)]}
    if isinstance(ranker, HybridRanker):
        weights = {
            "kind": "hybrid",
            "layers": [(copy(w), copy(b)) for w, b in zip(ranker.stack.weights, ranker.stack.biases)],
            "category_content": copy(ranker.category_content),
            "brand_content": copy(ranker.brand_content),
            "band_content": copy(ranker.band_content),
            "collaborative": ranker.collaborative,
        }
        if ranker.collaborative:
            for name in ("shopper_taste", "product_vector", "category_vector", "brand_vector"):
                weights[name] = copy(getattr(ranker, name))
        return weights
    raise TypeError(f"ranker must be a LinearRanker, MLPRanker or HybridRanker to export, got {type(ranker).__name__}")


def _mlp(x: np.ndarray, layers) -> np.ndarray:
    """ReLU hidden layers then a linear output unit on the last axis of a 2-D array; returns (rows,)."""
    last = len(layers) - 1
    for i, (w, b) in enumerate(layers):
        x = x @ w
        x += b
        if i < last:
            np.maximum(x, 0.0, out=x)
    return x[:, 0]


class NumpyScorer:
    """Scores and ranks with NumPy copies of a ranker's weights (see the module docstring)."""

    def __init__(self, weights: Mapping, n_features: int, ranker=None):
        self.weights = dict(weights)
        self.kind = self.weights["kind"]
        self.n_features = int(n_features)
        self.ranker = ranker
        if self.kind == "hybrid":
            # table sizes, for the id checks: field -> rows of the tables it indexes
            w = self.weights
            self._id_rows = {"category_ids": len(w["category_content"]), "brand_ids": len(w["brand_content"]),
                             "price_band_ids": len(w["band_content"])}
            if w["collaborative"]:
                self._id_rows.update(shopper_ids=len(w["shopper_taste"]), product_ids=len(w["product_vector"]),
                                     category_ids=min(len(w["category_content"]), len(w["category_vector"])),
                                     brand_ids=min(len(w["brand_content"]), len(w["brand_vector"])))

    @classmethod
    def from_ranker(cls, ranker) -> "NumpyScorer":
        """Export a LinearRanker, MLPRanker or HybridRanker (copies its current weights)."""
        return cls(export_weights(ranker), ranker.n_features, ranker)

    def refresh(self) -> "NumpyScorer":
        """Copy the ranker's current weights again (after the learner has updated it). Returns self."""
        if self.ranker is None:
            raise ValueError("this scorer was built from weights, not from a ranker; nothing to refresh from")
        self.__init__(export_weights(self.ranker), self.ranker.n_features, self.ranker)
        return self

    @property
    def needs_ids(self) -> bool:
        """True for the hybrid model (it needs ids besides the dense features)."""
        return self.kind == "hybrid"

    # -- input checks ----------------------------------------------------------------------------
    def _fields(self, inputs) -> tuple[dict, bool]:
        """(arrays by field name, single) where single means one request given as 2-D dense (K, F)."""
        if isinstance(inputs, np.ndarray) or isinstance(inputs, (list, tuple)):
            if self.needs_ids:
                raise TypeError("the hybrid model needs ids: pass RankingInputs or a mapping with dense and the id fields")
            fields = {"dense": inputs}
        elif isinstance(inputs, Mapping):
            fields = dict(inputs)
        elif hasattr(inputs, "as_dict"):
            fields = inputs.as_dict()
        else:
            raise TypeError(f"inputs must be RankingInputs, a mapping of arrays or a dense array, got {type(inputs).__name__}")
        if "dense" not in fields:
            raise ValueError("inputs must include 'dense' (n, K, n_features) float32")
        dense = fields["dense"]
        if not isinstance(dense, np.ndarray) or dense.dtype != np.float32:
            if isinstance(dense, (str, bytes)):
                raise TypeError(f"dense must be a float array, got {type(dense).__name__}")
            try:
                dense = np.asarray(dense, np.float32)
            except (TypeError, ValueError) as error:
                raise TypeError(f"dense must be a float array: {error}") from None
        single = dense.ndim == 2
        if single:
            dense = dense[None]
        if dense.ndim != 3 or dense.shape[2] != self.n_features:
            raise ValueError(f"dense must have shape (n, K, {self.n_features}) or (K, {self.n_features}), got {np.shape(fields['dense'])}")
        if dense.shape[1] == 0:
            raise ValueError("dense must hold at least one candidate, got K = 0")
        if not np.isfinite(dense).all():
            raise ValueError("dense must be finite, got NaN or inf")
        fields["dense"] = dense
        n, k = dense.shape[:2]
        if self.needs_ids:
            for name, rows in self._id_rows.items():
                if name not in fields:
                    raise ValueError(f"inputs must include {name!r} for the hybrid model")
                ids = np.asarray(fields[name])
                if single:
                    ids = ids[None]
                want = (n,) if name == "shopper_ids" else (n, k)
                if ids.shape != want:
                    raise ValueError(f"{name} must have shape {want[1:] if single else want} to match dense, got {np.shape(fields[name])}")
                if not np.issubdtype(ids.dtype, np.integer):
                    raise TypeError(f"{name} must be integer ids, got dtype {ids.dtype}")
                if ids.size and (ids.min() < 0 or ids.max() >= rows):
                    raise ValueError(f"{name} must lie in 0..{rows - 1} (0 is the unknown id), got {ids.min()}..{ids.max()}")
                fields[name] = ids
        mask = fields.get("mask")
        if mask is not None:
            mask = np.asarray(mask)
            if single:
                mask = mask[None]
            if mask.shape != (n, k) or mask.dtype != bool:
                raise ValueError(f"mask must be boolean with shape {(k,) if single else (n, k)}, got {mask.dtype} {np.shape(fields['mask'])}")
            fields["mask"] = mask
        return fields, single

    # -- scoring ---------------------------------------------------------------------------------
    def _scores(self, fields: dict) -> np.ndarray:
        dense = fields["dense"]
        n, k, f = dense.shape
        w = self.weights
        if self.kind == "linear":
            scores = dense.reshape(n * k, f) @ w["w"] + w["bias"]
        elif self.kind == "mlp":
            scores = _mlp(dense.reshape(n * k, f), w["layers"])
        else:
            category, brand = fields["category_ids"].reshape(-1), fields["brand_ids"].reshape(-1)
            content = np.concatenate([dense.reshape(n * k, f), w["category_content"][category], w["brand_content"][brand],
                                      w["band_content"][fields["price_band_ids"].reshape(-1)]], axis=1)
            scores = _mlp(content, w["layers"])
            if w["collaborative"]:
                item = (w["product_vector"][fields["product_ids"].reshape(-1)] + w["category_vector"][category]
                        + w["brand_vector"][brand])
                taste = np.repeat(w["shopper_taste"][fields["shopper_ids"]], k, axis=0)
                scores = scores + np.einsum("ij,ij->i", taste, item)
        scores = scores.reshape(n, k).astype(np.float32, copy=False)
        mask = fields.get("mask")
        if mask is not None and not mask.all():
            scores = np.where(mask, scores, np.float32(-np.inf))
        return scores

    def scores(self, inputs) -> np.ndarray:
        """Scores (n, K) float32 (or (K,) for one request given as dense (K, F)); masked candidates get -inf."""
        fields, single = self._fields(inputs)
        scores = self._scores(fields)
        return scores[0] if single else scores

    def rank(self, inputs) -> np.ndarray:
        """Display order: candidate indices by decreasing score, ties in input order; (n, K) or (K,)."""
        fields, single = self._fields(inputs)
        order = np.argsort(-self._scores(fields), axis=1, kind="stable")
        return order[0] if single else order

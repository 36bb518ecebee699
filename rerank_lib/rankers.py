"""Re-ranking models: score each of a session's K candidates (TensorFlow; notebooks 05, 06).

All are `tf.Module`s on the portable pieces (tf.Variable weights drawn with NumPy so a
seed gives the same start on every TensorFlow version; no Keras layers). Each maps
`RankingInputs` (as a dict of tensors) to scores (n, K); higher is shown first.

    LinearRanker    s = x . w + b                            (x: the dense features of a candidate)
    MLPRanker       s = MLP(x)                               (ReLU hidden layers, optional dropout)
    HybridRanker    s = MLP([x, E_cat c, E_brand b, E_band p])                          content
                        + <U_s, P_i + C_c + B_b>                                          collaborative
                    U: shopper taste vectors, P/C/B: product, category and brand vectors;
                    row 0 of every table is the shared "unknown" row (cold start).
    ArticleRanker   the original article's formulation, kept as a baseline:
                    v = M_theta(query, shopper) (an MLP on [Q_q, U_s]), s_i = <v, e_i> with e_i a
                    fixed content embedding of product i (category, brand, price, rating), trained
                    by L(v, u) = ||v - e_clicked||^2 (notebook 01's objective) towards the clicked products.

`loss(inputs, labels, ranking_loss, training, seed)` is what the online learner minimises:
the ranking loss on the scores, plus l2 * sum of squared weights (biases excluded).
"""

from __future__ import annotations

import numpy as np

from rerank_lib import compat  # noqa: F401  (quiets TensorFlow's log before the import)
from rerank_lib.checks import check_positive, check_positive_int
from rerank_lib.seeding import as_generator

import tensorflow as tf  # noqa: E402

INPUT_NAMES = ("dense", "shopper_ids", "query_ids", "product_ids", "category_ids", "brand_ids", "price_band_ids", "mask")


def input_signature(n_features: int) -> dict[str, tf.TensorSpec]:
    """TensorSpecs of RankingInputs for tf.function (any number of sessions and candidates)."""
    return {
        "dense": tf.TensorSpec([None, None, n_features], tf.float32),
        "shopper_ids": tf.TensorSpec([None], tf.int64),
        "query_ids": tf.TensorSpec([None], tf.int64),
        "product_ids": tf.TensorSpec([None, None], tf.int64),
        "category_ids": tf.TensorSpec([None, None], tf.int64),
        "brand_ids": tf.TensorSpec([None, None], tf.int64),
        "price_band_ids": tf.TensorSpec([None, None], tf.int64),
        "mask": tf.TensorSpec([None, None], tf.bool),
    }


def _variable(rng: np.random.Generator, shape, scale: float, name: str) -> tf.Variable:
    return tf.Variable(rng.normal(scale=scale, size=shape).astype(np.float32), name=name)


def _id_table(rng: np.random.Generator, rows: int, dim: int, scale: float, name: str) -> tf.Variable:
    """An embedding table whose row 0 (the unknown id) starts at zero, so cold start adds nothing random."""
    values = rng.normal(scale=scale, size=(rows, dim)).astype(np.float32)
    values[0] = 0.0
    return tf.Variable(values, name=name)


def _dropout(x, rate: float, training, seed):
    if rate <= 0:
        return x
    return tf.cond(
        tf.convert_to_tensor(training),
        lambda: tf.nn.experimental.stateless_dropout(x, rate=rate, seed=seed),
        lambda: x,
    )


class _DenseStack(tf.Module):
    """ReLU hidden layers then a linear layer to `outputs` units, applied to the last axis."""

    def __init__(self, sizes, outputs: int, rng, dropout: float, name: str):
        super().__init__(name=name)
        self.weights, self.biases = [], []
        dims = [*sizes, outputs]
        for i, (fan_in, fan_out) in enumerate(zip(dims[:-1], dims[1:])):
            self.weights.append(_variable(rng, (fan_in, fan_out), np.sqrt(2.0 / fan_in), f"w{i}"))
            self.biases.append(tf.Variable(np.zeros(fan_out, np.float32), name=f"bias{i}"))
        self.dropout = float(dropout)

    def __call__(self, x, training, seed):
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            x = tf.tensordot(x, w, axes=1) + b
            if i < len(self.weights) - 1:
                x = _dropout(tf.nn.relu(x), self.dropout, training, seed + i)
        return x


class Ranker(tf.Module):
    """Base class: subclasses implement `scores(inputs, training, seed)` and list their `weight_variables`."""

    kind = "ranker"

    def __init__(self, n_features: int, *, l2: float = 0.0, name=None):
        super().__init__(name=name)
        self.n_features = check_positive_int("n_features", n_features)
        self.l2 = check_positive("l2", l2, allow_zero=True)

    def scores(self, inputs, training=False, seed=None):  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def weight_variables(self) -> list[tf.Variable]:
        """The variables L2 applies to (weights and embeddings, not biases)."""
        return [v for v in self.trainable_variables if not v.name.split("/")[-1].startswith("bias")]

    def regularization(self):
        if self.l2 == 0:
            return tf.constant(0.0)
        return self.l2 * tf.add_n([tf.reduce_sum(tf.square(v)) for v in self.weight_variables])

    def loss(self, inputs, labels, ranking_loss, training=True, seed=None):
        """ranking_loss(scores, labels, mask) + l2 * ||weights||^2."""
        scores = self.scores(inputs, training=training, seed=seed)
        return ranking_loss(scores, labels, inputs["mask"]) + self.regularization()


class LinearRanker(Ranker):
    """s = x . w + b."""

    kind = "linear"

    def __init__(self, n_features: int, *, l2: float = 0.0, seed=0, name=None):
        super().__init__(n_features, l2=l2, name=name)
        rng = as_generator(seed)
        self.w = _variable(rng, (n_features,), 0.01, "w")
        self.bias = tf.Variable(0.0, name="bias")

    def scores(self, inputs, training=False, seed=None):
        return tf.tensordot(inputs["dense"], self.w, axes=1) + self.bias


class MLPRanker(Ranker):
    """s = MLP(x): ReLU hidden layers of `hidden` units, dropout on hidden units while training."""

    kind = "mlp"

    def __init__(self, n_features: int, *, hidden=(32, 16), dropout: float = 0.0, l2: float = 0.0, seed=0, name=None):
        super().__init__(n_features, l2=l2, name=name)
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.stack = _DenseStack([n_features, *hidden], 1, as_generator(seed), dropout, "mlp")

    def scores(self, inputs, training=False, seed=None):
        seed = tf.zeros([2], tf.int64) if seed is None else seed
        return self.stack(inputs["dense"], training, seed)[..., 0]


class HybridRanker(Ranker):
    """Content MLP over [dense, category, brand, price-band embeddings] + collaborative <U_s, P_i + C_c + B_b>.

    collaborative=False drops the second term (content alone, for ablations).
    Table sizes count the unknown row 0: n_shoppers + 1 rows for n_shoppers known shoppers.
    """

    kind = "hybrid"

    def __init__(self, n_features: int, *, n_shoppers: int, n_products: int, n_categories: int, n_brands: int,
                 n_price_bands: int = 5, dim: int = 16, content_dim: int = 8, hidden=(32,), dropout: float = 0.0,
                 collaborative: bool = True, l2: float = 0.0, seed=0, name=None):
        super().__init__(n_features, l2=l2, name=name)
        rng = as_generator(seed)
        self.collaborative = bool(collaborative)
        self.category_content = _variable(rng, (n_categories + 1, content_dim), 0.1, "category_content")
        self.brand_content = _variable(rng, (n_brands + 1, content_dim), 0.1, "brand_content")
        self.band_content = _variable(rng, (n_price_bands + 1, content_dim), 0.1, "band_content")
        self.stack = _DenseStack([n_features + 3 * content_dim, *hidden], 1, rng, dropout, "content")
        if self.collaborative:
            self.shopper_taste = _id_table(rng, n_shoppers + 1, dim, 0.1, "shopper_taste")
            self.product_vector = _id_table(rng, n_products + 1, dim, 0.1, "product_vector")
            self.category_vector = _variable(rng, (n_categories + 1, dim), 0.1, "category_vector")
            self.brand_vector = _variable(rng, (n_brands + 1, dim), 0.1, "brand_vector")

    def scores(self, inputs, training=False, seed=None):
        seed = tf.zeros([2], tf.int64) if seed is None else seed
        content = tf.concat(
            [
                inputs["dense"],
                tf.gather(self.category_content, inputs["category_ids"]),
                tf.gather(self.brand_content, inputs["brand_ids"]),
                tf.gather(self.band_content, inputs["price_band_ids"]),
            ],
            axis=-1,
        )
        score = self.stack(content, training, seed)[..., 0]
        if self.collaborative:
            taste = tf.gather(self.shopper_taste, inputs["shopper_ids"])[:, None, :]
            item = (
                tf.gather(self.product_vector, inputs["product_ids"])
                + tf.gather(self.category_vector, inputs["category_ids"])
                + tf.gather(self.brand_vector, inputs["brand_ids"])
            )
            score += tf.reduce_sum(taste * item, axis=-1)
        return score


class ArticleRanker(Ranker):
    """The article's v = M_theta(query, shopper); s_i = <v, e_i>; trained by ||v - e_clicked||^2.

    e_i is fixed (not learned, which would let every vector collapse to 0): one-hot category,
    one-hot brand scaled by 1/2, and the candidate's relative price and standardised rating.
    """

    kind = "article"

    def __init__(self, n_features: int, *, n_shoppers: int, n_queries: int, n_categories: int, n_brands: int,
                 dim: int = 16, hidden=(64,), l2: float = 0.0, seed=0, name=None):
        super().__init__(n_features, l2=l2, name=name)
        rng = as_generator(seed)
        self.n_categories, self.n_brands = int(n_categories), int(n_brands)
        self.item_dim = self.n_categories + 1 + self.n_brands + 1 + 2
        self.shopper_vector = _id_table(rng, n_shoppers + 1, dim, 0.1, "shopper_vector")
        self.query_vector = _id_table(rng, n_queries + 1, dim, 0.1, "query_vector")
        self.stack = _DenseStack([2 * dim, *hidden], self.item_dim, rng, 0.0, "m_theta")

    def item_embeddings(self, inputs):
        """e_i (n, K, item_dim): [one_hot(category), one_hot(brand) / 2, relative_price, rating_z]."""
        dense = inputs["dense"]
        return tf.concat(
            [
                tf.one_hot(inputs["category_ids"], self.n_categories + 1),
                0.5 * tf.one_hot(inputs["brand_ids"], self.n_brands + 1),
                dense[..., 4:5],  # relative_price
                dense[..., 5:6],  # rating_z
            ],
            axis=-1,
        )

    def preference_vector(self, inputs, training=False, seed=None):
        """v = M_theta([Q_query, U_shopper]), shape (n, item_dim)."""
        seed = tf.zeros([2], tf.int64) if seed is None else seed
        x = tf.concat([tf.gather(self.query_vector, inputs["query_ids"]), tf.gather(self.shopper_vector, inputs["shopper_ids"])], axis=-1)
        return self.stack(x, training, seed)

    def scores(self, inputs, training=False, seed=None):
        v = self.preference_vector(inputs, training, seed)
        return tf.reduce_sum(v[:, None, :] * self.item_embeddings(inputs), axis=-1)

    def loss(self, inputs, labels, ranking_loss, training=True, seed=None):
        """Mean over clicked (session, product) pairs of ||v - e_clicked||^2 (ranking_loss is not used)."""
        v = self.preference_vector(inputs, training, seed)
        e = self.item_embeddings(inputs)
        clicked = tf.cast(tf.logical_and(labels > 0, inputs["mask"]), tf.float32)
        distance = tf.reduce_sum(tf.square(v[:, None, :] - e), axis=-1)
        mse = tf.math.divide_no_nan(tf.reduce_sum(distance * clicked), tf.reduce_sum(clicked))
        return mse + self.regularization()


RANKER_KINDS = ("linear", "mlp", "hybrid", "article")


def make_ranker(kind: str, encoder, *, seed=0, **options) -> Ranker:
    """A ranker of `kind` sized for a FeatureEncoder's vocabularies (options go to the constructor)."""
    n = encoder.n_features
    if kind == "linear":
        return LinearRanker(n, seed=seed, **options)
    if kind == "mlp":
        return MLPRanker(n, seed=seed, **options)
    if kind == "hybrid":
        return HybridRanker(n, n_shoppers=encoder.n_shoppers, n_products=encoder.n_products,
                            n_categories=encoder.n_categories, n_brands=encoder.n_brands, seed=seed, **options)
    if kind == "article":
        return ArticleRanker(n, n_shoppers=encoder.n_shoppers, n_queries=encoder.n_queries,
                             n_categories=encoder.n_categories, n_brands=encoder.n_brands, seed=seed, **options)
    raise ValueError(f"model must be one of {list(RANKER_KINDS)}, got {kind!r}")

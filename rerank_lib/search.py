"""Base search: BM25 over product titles (the `bm25s` library), top-K candidates, a cache of results.

BM25 (Robertson et al.) in the Lucene variant, bm25s' default, scores product d for query q as

    score(q, d) = sum_{t in q} idf(t) * tf(t, d) / (tf(t, d) + k1 (1 - b + b |d| / avgdl)),
    idf(t)      = log(1 + (N - df(t) + 0.5) / (df(t) + 0.5))                  (always > 0)

with N products, df(t) products whose title has token t, |d| the title length in
tokens, k1 = 1.5 and b = 0.75 (Kamphuis et al., ECIR 2020, compare the variants;
Robertson's form has an extra constant factor k1 + 1 and idf log((N - df + 0.5) /
(df + 0.5)), which is what rank_bm25's BM25Okapi computes). A product *matches*
when its score is > 0, i.e. its title shares at least one token with the query.

The top-K list is sorted by score, ties broken by popularity (higher first) and
then product id, so it is deterministic and every shorter list is a prefix of a
longer one. If fewer than K products match, the list is padded with the most
popular non-matching products (score 0), the way a shop fills a thin result page
with best-sellers; `search(..., pad=False)` returns only the matches instead.
The shop always pads, so its batches are rectangular (n_sessions, K);
`n_matched` says where the real matches end.

Results are cached by the query's tokens (an LRU of `cache_size` queries), so
repeated queries cost a dictionary look-up and a slice.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from rerank_lib.catalog import Catalog, tokenize
from rerank_lib.checks import check_choice, check_positive, check_positive_int

__all__ = ["MAX_K", "BM25Search", "SearchResult", "check_k"]

MAX_K = 1_000  # the largest candidate list the project supports (the bound)


def check_k(k, n_products: int) -> int:
    """K must be an int in 1 .. min(MAX_K, n_products); the error names `k`."""
    k = check_positive_int("k", k)
    if k > n_products:
        raise ValueError(f"k must be at most the catalog size ({n_products} products), got {k}")
    if k > MAX_K:
        raise ValueError(f"k must be at most MAX_K = {MAX_K}, got {k}")
    return k


@dataclass(frozen=True)
class SearchResult:
    """One query's candidates: product ids and BM25 scores, best first; the first n_matched are real matches."""

    products: np.ndarray  # (m,) intp, m <= k
    scores: np.ndarray  # (m,) float32, 0 for padding
    n_matched: int


class BM25Search:
    """BM25 over a catalog's titles with top-K retrieval and an LRU cache of query results.

    The index is built once with bm25s (tokens from `catalog.tokenize`, so queries
    and titles are split the same way). `method` is bm25s' variant: "lucene"
    (default), "robertson" (times k1 + 1 it is rank_bm25's BM25Okapi when every idf > 0),
    "atire", "bm25l" or "bm25+".
    """

    METHODS = ("lucene", "robertson", "atire", "bm25l", "bm25+")

    def __init__(self, catalog: Catalog, *, k1: float = 1.5, b: float = 0.75, method: str = "lucene",
                 cache_size: int = 100_000):
        if not isinstance(catalog, Catalog):
            raise TypeError(f"catalog must be a Catalog, got {type(catalog).__name__}")
        self.k1 = check_positive("k1", k1, allow_zero=True)
        self.b = check_positive("b", b, allow_zero=True)
        if self.b > 1:
            raise ValueError(f"b must lie in [0, 1], got {self.b}")
        self.method = check_choice("method", method, self.METHODS)
        self.cache_size = check_positive_int("cache_size", cache_size, allow_zero=True)
        self.catalog = catalog
        with warnings.catch_warnings():
            # bm25s imports tqdm.auto, which warns in a notebook without ipywidgets; we show no progress bars.
            warnings.filterwarnings("ignore", message="IProgress not found")
            import bm25s  # imported here: only building an index needs it

        vocabulary, token_ids = catalog.title_token_ids()
        self.vocabulary = {token: i for i, token in enumerate(vocabulary)}
        corpus = [row[row >= 0].tolist() for row in token_ids]
        self._index = bm25s.BM25(k1=self.k1, b=self.b, method=self.method)
        self._index.index((corpus, dict(self.vocabulary)), create_empty_token=False, show_progress=False)
        popularity = catalog.popularity
        self._popular = np.lexsort((np.arange(len(catalog)), -popularity.astype(np.int64)))
        self._cache: OrderedDict[tuple[str, ...], tuple[int, SearchResult]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __repr__(self) -> str:
        return (f"BM25Search({len(self.catalog):,} titles, {len(self.vocabulary):,} tokens, method={self.method!r}, "
                f"k1={self.k1:g}, b={self.b:g}, cached={len(self._cache)})")

    def index_bytes(self) -> int:
        """Bytes of the BM25 index (its sparse score matrix)."""
        scores = self._index.scores
        return int(scores["data"].nbytes + scores["indices"].nbytes + scores["indptr"].nbytes)

    def scores(self, query) -> np.ndarray:
        """BM25 score of every product for a query string (or token list); float32 (n_products,). Not cached."""
        tokens = tokenize(query) if isinstance(query, str) else list(query)
        known = [t for t in tokens if t in self.vocabulary]  # unknown words score nothing
        if not known:
            return np.zeros(len(self.catalog), np.float32)
        return np.asarray(self._index.get_scores(known), dtype=np.float32)

    def search(self, query, k: int = 50, *, pad: bool = True) -> SearchResult:
        """Top-k products for a query string (or token list), best first; cached by tokens."""
        k = check_k(k, len(self.catalog))
        tokens = tuple(tokenize(query) if isinstance(query, str) else query)
        entry = self._cache.get(tokens)
        if entry is not None and entry[0] >= k:
            self.hits += 1
            self._cache.move_to_end(tokens)
            result = entry[1]
        else:
            self.misses += 1
            result = self._top_k(self.scores(list(tokens)), k)
            if self.cache_size:
                self._cache[tokens] = (k, result)
                self._cache.move_to_end(tokens)
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        m = k if pad else min(k, result.n_matched)
        if m == len(result.products):
            return result
        return SearchResult(result.products[:m], result.scores[:m], min(result.n_matched, m))

    def search_many(self, queries: Sequence[str], k: int = 50) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Padded top-k for each query: (products (n, k) intp, scores (n, k) float32, n_matched (n,) int64)."""
        results = [self.search(q, k) for q in queries]
        if not results:
            return np.zeros((0, k), np.intp), np.zeros((0, k), np.float32), np.zeros(0, np.int64)
        return (np.stack([r.products for r in results]), np.stack([r.scores for r in results]),
                np.array([r.n_matched for r in results], np.int64))

    def cache_info(self) -> dict:
        """hits, misses and the number of cached queries."""
        return {"hits": self.hits, "misses": self.misses, "size": len(self._cache)}

    def clear_cache(self) -> None:
        self._cache.clear()
        self.hits = self.misses = 0

    def _top_k(self, scores: np.ndarray, k: int) -> SearchResult:
        matched = np.flatnonzero(scores > 0)
        n_matched = len(matched)
        if n_matched > k:
            # Keep everything tied with the k-th score, then sort only those.
            threshold = np.partition(scores[matched], n_matched - k)[n_matched - k]
            matched = matched[scores[matched] >= threshold]
        popularity = self.catalog.popularity
        order = np.lexsort((matched, -popularity[matched].astype(np.int64), -scores[matched]))
        top = matched[order][:k]
        if len(top) < k:
            head = self._popular[:k]
            fill = head[scores[head] <= 0][: k - len(top)]  # at most n_matched < k of the k best-sellers match
            top = np.concatenate([top, fill])
        top = top.astype(np.intp)
        top.setflags(write=False)
        top_scores = scores[top].astype(np.float32)
        top_scores.setflags(write=False)
        return SearchResult(top, top_scores, min(n_matched, k))

"""`python -m rerank_lib bench-shop`: how fast the simulated shop serves sessions, and how big a 1M catalog is.

Prints sessions simulated per second on one core for K = 50 and K = 1,000 under
each click model. A timed session is the whole loop: sample the shopper and her
query, fetch the query's BM25 top-K (each distinct query is searched once with
bm25s and then served from the cache, as in a shop), compute the hidden grades and
purchase probabilities, build the (n, K, 12) feature array, apply the ranker (the
BM25 order) and sample clicks and purchases. Then it builds a 1,000,000-product
catalog and reports its memory (and, with --index-1m, the BM25 index over it).

One core: the process is pinned to one CPU (os.sched_setaffinity, Linux) and
BLAS/OpenMP pools are limited to one thread (threadpoolctl, if installed); the
output says which of the two applied. This is a report, not a test: numbers vary
with the machine and its load.
"""

from __future__ import annotations

import argparse
import os
import time
import tracemalloc

import numpy as np

from rerank_lib.click_models import CLICK_MODEL_NAMES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true",
                        help="10x fewer sessions (a few seconds in all)")
    parser.add_argument("--products", type=int, default=5_000, help="catalog size of the simulated shop (default 5000)")
    parser.add_argument("--batch-size", type=int, default=1_000, help="sessions per batch (default 1000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--index-1m", action="store_true",
                        help="also build the BM25 index over the 1M-product catalog (about half a minute)")


def pin_to_one_core() -> list[str]:
    """Pin this process to one CPU and thread pools to one thread; returns what was applied."""
    applied = []
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        applied.append(f"sched_setaffinity(cpu {cpu})")
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        pass
    else:
        threadpool_limits(1)
        applied.append("threadpoolctl limit 1")
    return applied


def sessions_per_second(base, k: int, click_model: str, n_sessions: int, batch_size: int) -> tuple[float, float]:
    """(sessions/s of the timed loop, seconds to fill the cold BM25 result cache) for one K and click model."""
    from rerank_lib.shop import Shop, bm25_ranker

    base.search.clear_cache()
    shop = Shop(base.catalog, base.shoppers, base.queries, search=base.search, k=k, click_model=click_model, seed=0)
    start = time.perf_counter()
    shop.candidates_for(np.arange(len(shop.queries)))  # every query searched once: the cache is warm
    cold = time.perf_counter() - start
    for batch, _ in shop.run(bm25_ranker, min(2 * batch_size, n_sessions), batch_size=batch_size):
        batch.features  # warm-up: first-call costs out of the timing
    served = 0
    start = time.perf_counter()
    for batch, feedback in shop.run(bm25_ranker, n_sessions, batch_size=batch_size):
        batch.features  # a learner reads them; building them is part of a session's cost
        served += len(batch)
    return served / (time.perf_counter() - start), cold


def catalog_memory(n_products: int, seed: int, index: bool) -> None:
    from rerank_lib.catalog import generate_catalog

    tracemalloc.start()
    start = time.perf_counter()
    catalog = generate_catalog(n_products, seed=seed)
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    frame_bytes = int(catalog.to_frame(titles=False).memory_usage(deep=True).sum())
    columns = catalog.memory_bytes()
    print(f"\n{n_products:,}-product catalog: built in {seconds:.1f} s; columns {columns / 2**20:.1f} MiB "
          f"({columns / n_products:.0f} bytes/product), peak while building {peak / 2**20:.0f} MiB; "
          f"as a pandas DataFrame with categorical columns (no titles) {frame_bytes / 2**20:.1f} MiB")
    lengths = [len(t) for t in catalog.titles(np.arange(0, n_products, max(1, n_products // 10_000)))]
    print(f"  titles are made on demand: materialising all of them as str would add about "
          f"{(np.mean(lengths) + 49) * n_products / 2**20:.0f} MiB")
    if index:
        from rerank_lib.search import BM25Search

        start = time.perf_counter()
        search = BM25Search(catalog)
        seconds = time.perf_counter() - start
        start = time.perf_counter()
        result = search.search("apple iphone 13 case", 50)
        query_ms = 1e3 * (time.perf_counter() - start)
        print(f"  BM25 index (bm25s): built in {seconds:.1f} s, {search.index_bytes() / 2**20:.1f} MiB; "
              f"one uncached query {query_ms:.1f} ms ({result.n_matched} matches in the top 50)")


def run(args) -> int:
    if args.products < 1000:
        raise SystemExit("--products must be at least 1000 (K = 1,000 needs that many)")
    applied = pin_to_one_core()
    print(f"bench-shop: one core ({', '.join(applied) or 'no pinning available'}); "
          f"{args.products:,} products, 2,000 shoppers, batches of {args.batch_size:,}, BM25 order as the ranker")
    print(f"{'K':>6} {'click model':>12} {'sessions/s':>12} {'sessions':>9}   cold BM25 cache")
    from rerank_lib.shop import make_shop

    base = make_shop(n_products=args.products, seed=args.seed)  # catalog, shoppers, queries, BM25 index: built once
    plan = {50: 20_000 if args.quick else 200_000, 1_000: 2_000 if args.quick else 20_000}
    for k, n_sessions in plan.items():
        for name in CLICK_MODEL_NAMES:
            rate, cold = sessions_per_second(base, k, name, n_sessions, args.batch_size)
            print(f"{k:>6} {name:>12} {rate:>12,.0f} {n_sessions:>9,}   {len(base.queries):,} queries in {cold:.2f} s")
    catalog_memory(1_000_000, args.seed, args.index_1m)
    return 0

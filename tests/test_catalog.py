"""The catalog: a consistent category tree, sane prices and titles, seeded, columnar and small."""

import numpy as np
import pandas as pd
import pytest

from rerank_lib.catalog import COLORS, TAXONOMY, TITLE_SLOTS, Catalog, generate_catalog, tokenize


@pytest.fixture(scope="module")
def catalog():
    return generate_catalog(20_000, seed=1)


def _columns(c):
    return dict(subcategory=c.subcategory, brand=c.brand, line=c.line, model=c.model, attribute=c.attribute,
                color=c.color, price=c.price, rating=c.rating, popularity=c.popularity, title_pieces=c.title_pieces)


def test_tokenize():
    assert tokenize("Levi's 501 Slim W32 Blue Jeans") == ["levis", "501", "slim", "w32", "blue", "jeans"]
    assert tokenize("Anker 65W USB-C Charger") == ["anker", "65w", "usb", "c", "charger"]
    with pytest.raises(TypeError, match="text"):
        tokenize(3)


def test_columns_are_sane(catalog):
    n = len(catalog)
    assert n == 20_000
    assert (catalog.price > 0).all() and (catalog.rating >= 1).all() and (catalog.rating <= 5).all()
    assert (catalog.popularity >= 0).all()
    # Prices end in .99, ratings have one decimal.
    np.testing.assert_allclose(catalog.price % 1, 0.99, atol=1e-3)
    np.testing.assert_allclose(catalog.rating * 10, np.round(catalog.rating * 10), atol=1e-3)
    assert catalog.title_pieces.shape == (n, len(TITLE_SLOTS))
    # Every subcategory and department is used, and the columns are read-only.
    assert len(np.unique(catalog.subcategory)) == len(TAXONOMY)
    assert len(catalog.department_names) >= 5
    with pytest.raises(ValueError):
        catalog.price[0] = 1.0


def test_category_tree_is_consistent(catalog):
    for c, spec in enumerate(catalog.taxonomy):
        rows = catalog.subcategory == c
        assert set(catalog.category[rows]) == {catalog.category_names.index(spec.category)}
        assert {catalog.department_names[d] for d in catalog.department[rows]} == {spec.department}
        brands = {catalog.brand_names[b] for b in catalog.brand[rows]}
        assert brands <= set(spec.brands)


def test_titles_follow_the_attributes(catalog):
    for i in range(0, len(catalog), 997):
        title = catalog.title(i)
        spec = catalog.taxonomy[catalog.subcategory[i]]
        assert title.startswith(catalog.brand_names[catalog.brand[i]])
        assert spec.noun in title
        if catalog.color[i] >= 0:
            assert catalog.pieces[catalog.color[i]] in COLORS
        if spec.compatible_with is not None and catalog.line[i] >= 0:
            # An accessory names the device it fits, and its line/model columns are that device.
            assert f" for {catalog.pieces[catalog.line[i]]} {catalog.pieces[catalog.model[i]]}" in title
    assert catalog.titles([0, 1]) == [catalog.title(0), catalog.title(1)]
    phones = np.flatnonzero(catalog.subcategory == catalog.subcategory_names.index("smartphones"))
    assert any(catalog.title(i).startswith("Apple iPhone ") for i in phones)


def test_prices_follow_the_taxonomy_and_brand_tier(catalog):
    names = catalog.subcategory_names
    median = {name: np.median(catalog.price[catalog.subcategory == c]) for c, name in enumerate(names)}
    assert median["laptops"] > 10 * median["phone cases"]
    # Within the smartphones aisle, premium Apple costs more than budget Xiaomi.
    phones = catalog.subcategory == names.index("smartphones")
    apple = np.median(catalog.price[phones & (catalog.brand == catalog.brand_names.index("Apple"))])
    xiaomi = np.median(catalog.price[phones & (catalog.brand == catalog.brand_names.index("Xiaomi"))])
    assert apple > 1.5 * xiaomi
    # z = log(price / subcategory median) is centred per subcategory.
    for c in range(len(names)):
        assert abs(np.median(catalog.relative_log_price[catalog.subcategory == c])) < 0.05


def test_brand_shares_are_zipf_within_a_subcategory(catalog):
    c = catalog.subcategory_names.index("smartphones")
    counts = np.bincount(catalog.brand[catalog.subcategory == c], minlength=catalog.n_brands)
    first, last = catalog.subcategory_brands[c, 0], catalog.subcategory_brands[c, 4]
    # Zipf weights 1 : 1/5 for the first and fifth brand; a loose margin for sampling noise.
    assert counts[first] > 3 * counts[last]


def test_same_seed_same_catalog_other_seed_differs():
    a, b, c = generate_catalog(2_000, seed=7), generate_catalog(2_000, seed=7), generate_catalog(2_000, seed=8)
    for name, column in _columns(a).items():
        np.testing.assert_array_equal(column, _columns(b)[name])
    assert not np.array_equal(a.price, c.price)
    assert a.titles(range(20)) != c.titles(range(20))


def test_frame_has_categorical_columns(catalog):
    frame = catalog.to_frame(np.arange(100))
    assert len(frame) == 100 and frame["title"].iloc[3] == catalog.title(3)
    for column in ("department", "category", "subcategory", "brand", "color"):
        assert isinstance(frame[column].dtype, pd.CategoricalDtype), column
    np.testing.assert_allclose(frame["price"], catalog.price[:100], rtol=1e-6)
    assert frame["line"].isna().any() and not frame["brand"].isna().any()  # no line -> NaN


def test_memory_is_linear_and_small():
    # Bytes per product do not depend on n: a million products is 1e6 times this (~49 MB).
    small, large = generate_catalog(10_000, seed=0), generate_catalog(200_000, seed=0)
    per_small, per_large = small.memory_bytes() / len(small), large.memory_bytes() / len(large)
    assert per_small == per_large
    assert per_large < 64, per_large


def test_bad_arguments_name_the_parameter(catalog):
    with pytest.raises(ValueError, match="n_products"):
        generate_catalog(0)
    with pytest.raises(ValueError, match="price_scale"):
        generate_catalog(10, price_scale=-1.0)
    columns = {k: np.array(v) for k, v in _columns(catalog).items()}
    bad = dict(columns, price=columns["price"].copy())
    bad["price"][5] = -3.0
    with pytest.raises(ValueError, match="price must be > 0"):
        Catalog(**bad)
    bad = dict(columns, rating=columns["rating"] + 2)
    with pytest.raises(ValueError, match="rating"):
        Catalog(**bad)
    bad = dict(columns, brand=columns["brand"] + 1000)
    with pytest.raises(ValueError, match="brand"):
        Catalog(**bad)
    bad = dict(columns, popularity=columns["popularity"][:-1])
    with pytest.raises(ValueError, match="popularity"):
        Catalog(**bad)
    # The constructor accepts what generate_catalog made.
    assert len(Catalog(**columns)) == len(catalog)

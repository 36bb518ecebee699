"""The Open Bandit Dataset sample: shapes, columns, checksums, and the CTR helpers."""

import gzip
import shutil

import numpy as np
import pandas as pd
import pytest

from rerank_lib import datasets
from rerank_lib.datasets import (
    OBD_CAMPAIGNS,
    OBD_DIR_ENV,
    OBD_N_ITEMS,
    OBD_POLICIES,
    ChecksumError,
    ctr_by_policy_and_campaign,
    ctr_by_position,
    item_popularity,
    load_open_bandit,
    load_open_bandit_items,
    open_bandit_dir,
)

LOGS = [(policy, campaign) for policy in OBD_POLICIES for campaign in OBD_CAMPAIGNS]
BASE_COLUMNS = ["timestamp", "item_id", "position", "click", "propensity_score"] + [f"user_feature_{i}" for i in range(4)]


@pytest.fixture(autouse=True)
def _no_env_override(monkeypatch):
    # Tests read the repository's copy unless they set the variable themselves.
    monkeypatch.delenv(OBD_DIR_ENV, raising=False)


@pytest.fixture
def obd_copy(tmp_path):
    """A private, writable copy of the Open Bandit folder."""
    target = tmp_path / "obd"
    shutil.copytree(open_bandit_dir(), target)
    for path in target.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return target


@pytest.mark.parametrize("policy, campaign", LOGS)
def test_each_log_has_10000_rows_and_the_documented_columns(policy, campaign):
    frame = load_open_bandit(policy, campaign)
    n_items = OBD_N_ITEMS[campaign]
    affinity = [f"user_item_affinity_{j}" for j in range(n_items)]
    assert len(frame) == 10_000
    assert list(frame.columns) == BASE_COLUMNS + affinity
    assert isinstance(frame.index, pd.RangeIndex)
    assert frame.notna().all().all()
    # dtypes as documented
    assert isinstance(frame["timestamp"].dtype, pd.DatetimeTZDtype) and str(frame["timestamp"].dt.tz) == "UTC"
    for column in ("item_id", "position", "click"):
        assert frame[column].dtype == np.int64
    assert all(frame[f"user_feature_{i}"].dtype == "category" for i in range(4))
    assert all(frame[column].dtype == np.float64 for column in ["propensity_score"] + affinity)
    # values in their documented ranges
    assert set(frame["position"].unique()) == {1, 2, 3}
    assert set(frame["click"].unique()) <= {0, 1}
    assert frame["item_id"].between(0, n_items - 1).all()
    assert (frame["propensity_score"] > 0).all() and (frame["propensity_score"] <= 1).all()
    assert frame["timestamp"].is_monotonic_increasing
    assert frame["timestamp"].min() >= pd.Timestamp("2019-11-24", tz="UTC")
    assert frame["timestamp"].max() < pd.Timestamp("2019-12-01", tz="UTC")
    assert (frame[affinity] >= 0).all().all()
    assert frame.attrs["policy"] == policy and frame.attrs["campaign"] == campaign


@pytest.mark.parametrize("campaign", OBD_CAMPAIGNS)
def test_random_policy_propensity_is_one_over_the_number_of_items(campaign):
    frame = load_open_bandit("random", campaign)
    np.testing.assert_allclose(frame["propensity_score"], 1 / OBD_N_ITEMS[campaign])


@pytest.mark.parametrize("policy, campaign", LOGS)
def test_item_context_has_one_row_per_item(policy, campaign):
    items = load_open_bandit_items(campaign, policy=policy)
    assert list(items.columns) == ["item_id"] + [f"item_feature_{i}" for i in range(4)]
    assert items["item_id"].tolist() == list(range(OBD_N_ITEMS[campaign]))
    assert items["item_feature_0"].dtype == np.float64 and items["item_feature_1"].dtype == "category"


def test_ctr_table_is_in_a_sane_range():
    table = ctr_by_policy_and_campaign()
    assert list(table.index) == LOGS
    assert (table["impressions"] == 10_000).all()
    np.testing.assert_allclose(table["ctr"], table["clicks"] / table["impressions"])
    # A fashion widget: a few clicks per thousand impressions (the paper reports
    # 0.35% random / 0.50% BTS on the full data); never zero, never above 2%.
    assert table["ctr"].between(0.001, 0.02).all()
    assert table["clicks"].min() >= 10
    np.testing.assert_allclose(table["ctr_se"], np.sqrt(table["ctr"] * (1 - table["ctr"]) / 10_000))


def test_ctr_by_position_adds_up():
    frame = load_open_bandit("random", "all")
    table = ctr_by_position(frame)
    assert list(table.index) == [1, 2, 3]
    assert table["impressions"].sum() == len(frame) and table["clicks"].sum() == frame["click"].sum()
    assert table["ctr"].between(0, 0.05).all()
    # Random logging spreads impressions evenly over the three slots.
    assert table["impressions"].between(3000, 3700).all()


def test_item_popularity_counts_every_item():
    frame = load_open_bandit("bts", "all")
    table = item_popularity(frame)
    assert list(table.index) == list(range(80)) and table.index.name == "item_id"
    assert table["impressions"].sum() == 10_000 and table["clicks"].sum() == frame["click"].sum()
    np.testing.assert_allclose(table["impression_share"].sum(), 1.0)
    # BTS concentrates impressions on a few items; random spreads them out.
    random_table = item_popularity(load_open_bandit("random", "all"))
    assert table["impression_share"].max() > 3 * random_table["impression_share"].max()
    # Without a known campaign only the shown items appear, unless n_items says otherwise.
    small = frame[frame["item_id"] < 5].copy()
    small.attrs = {}
    assert list(item_popularity(small).index) == sorted(small["item_id"].unique())
    padded = item_popularity(small, n_items=10)
    assert len(padded) == 10 and (padded.loc[5:, "impressions"] == 0).all() and padded.loc[5:, "ctr"].isna().all()


# --- checksums and corrupt copies ----------------------------------------------------------------


def test_checksum_file_covers_every_data_file():
    folder = open_bandit_dir()
    sums = datasets._checksums(folder)
    assert len(sums) == 12  # 6 logs + 6 item files
    for relative in sums:
        stored = folder / (relative if relative.endswith("item_context.csv") else relative + ".gz")
        assert stored.is_file(), stored


def test_corrupted_log_is_rejected_naming_the_file(obd_copy):
    path = obd_copy / "random" / "men" / "men.csv.gz"
    text = gzip.decompress(path.read_bytes()).decode()
    # Flip one click: still a valid CSV, but no longer the published data.
    lines = text.splitlines(keepends=True)
    fields = lines[1].split(",")
    fields[4] = "1" if fields[4] == "0" else "0"
    lines[1] = ",".join(fields)
    path.write_bytes(gzip.compress("".join(lines).encode()))
    with pytest.raises(ChecksumError, match=r"men\.csv\.gz"):
        load_open_bandit("random", "men", data_dir=obd_copy)
    # verify=False is the explicit escape hatch: the edited data loads.
    edited = load_open_bandit("random", "men", data_dir=obd_copy, verify=False)
    original = load_open_bandit("random", "men")
    assert (edited["click"] != original["click"]).sum() == 1
    # Other files in the copy are untouched and still verify.
    load_open_bandit("random", "women", data_dir=obd_copy)


def test_truncated_gzip_and_corrupt_item_file_are_rejected(obd_copy):
    path = obd_copy / "bts" / "all" / "all.csv.gz"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(ChecksumError, match=r"all\.csv\.gz"):
        load_open_bandit("bts", "all", data_dir=obd_copy)
    items = obd_copy / "bts" / "women" / "item_context.csv"
    items.write_text(items.read_text().replace("0,0,", "0,9,", 1))
    with pytest.raises(ChecksumError, match="item_context.csv"):
        load_open_bandit_items("women", policy="bts", data_dir=obd_copy)


def test_missing_checksum_entry_is_an_error(obd_copy):
    sums = obd_copy / datasets.CHECKSUM_FILE
    sums.write_text("".join(line + "\n" for line in sums.read_text().splitlines() if "women.csv" not in line))
    with pytest.raises(ChecksumError, match="women.csv"):
        load_open_bandit("bts", "women", data_dir=obd_copy)


# --- where the data comes from ------------------------------------------------------------------


def test_environment_variable_points_at_another_copy(obd_copy, monkeypatch):
    monkeypatch.setenv(OBD_DIR_ENV, str(obd_copy))
    assert open_bandit_dir() == obd_copy
    assert len(load_open_bandit("random", "all")) == 10_000
    # An explicit data_dir beats the environment variable.
    assert open_bandit_dir(datasets._REPOSITORY_OBD_DIR) == datasets._REPOSITORY_OBD_DIR


def test_missing_folder_says_where_it_looked(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="data_dir"):
        load_open_bandit("random", "all", data_dir=tmp_path / "nowhere")
    monkeypatch.setenv(OBD_DIR_ENV, str(tmp_path))
    with pytest.raises(FileNotFoundError, match=OBD_DIR_ENV):
        load_open_bandit("random", "all")


def test_repository_copy_does_not_depend_on_shared_folder():
    assert "shared" not in open_bandit_dir().parts
    assert open_bandit_dir() == datasets._REPOSITORY_OBD_DIR


# --- bad arguments ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: load_open_bandit("thompson", "all"), "policy"),
        (lambda: load_open_bandit("random", "kids"), "campaign"),
        (lambda: load_open_bandit("Random", "all"), "policy"),
        (lambda: load_open_bandit_items("kids"), "campaign"),
        (lambda: load_open_bandit_items("all", policy="ucb"), "policy"),
    ],
)
def test_bad_names_are_errors_naming_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_helpers_reject_non_logs():
    with pytest.raises(TypeError, match="frame"):
        ctr_by_position([1, 2, 3])
    with pytest.raises(ValueError, match="position"):
        ctr_by_position(pd.DataFrame({"click": [0, 1]}))
    frame = load_open_bandit("random", "men")
    with pytest.raises(ValueError, match="n_items"):
        item_popularity(frame, n_items=10)
    with pytest.raises(ValueError, match="n_items"):
        item_popularity(frame, n_items=0)

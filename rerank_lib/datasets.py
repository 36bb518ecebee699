"""Real logged data: the Open Bandit Dataset sample (ZOZOTOWN fashion e-commerce), checksummed.

ZOZOTOWN ran two policies side by side for 7 days in November 2019 on a
recommendation widget with 3 positions: uniform Random and Bernoulli Thompson
Sampling (BTS), each for three campaigns ("all": 80 items, "men": 34, "women":
46). The sample here is 10,000 impressions per (policy, campaign), exactly as
shipped in the `obp` 0.4.1 wheel on PyPI, copied into the repository's
`datasets/obd/` (see its README for provenance).

License CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/). Attribution:
Yuta Saito, Shunsuke Aihara, Megumi Matsutani, Yusuke Narita. "Open Bandit
Dataset and Pipeline: Towards Realistic and Reproducible Off-Policy
Evaluation." NeurIPS 2021 Datasets and Benchmarks Track.

Where the files are looked for, first match wins: the `data_dir=` argument,
the environment variable RERANK_LAB_OBD_DIR, the repository's datasets/obd/.
Each names the folder that holds SHA256SUMS.csv-uncompressed, random/ and bts/.

The click-through rate of n impressions with c clicks is ctr = c / n, reported
with its binomial standard error sqrt(ctr (1 - ctr) / n).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
from pathlib import Path

import numpy as np
import pandas as pd

from rerank_lib.checks import check_choice, check_positive_int

__all__ = [
    "OBD_CAMPAIGNS",
    "OBD_DIR_ENV",
    "OBD_N_ITEMS",
    "OBD_POLICIES",
    "ChecksumError",
    "ctr_by_policy_and_campaign",
    "ctr_by_position",
    "item_popularity",
    "load_open_bandit",
    "load_open_bandit_items",
    "open_bandit_dir",
]

OBD_POLICIES = ("random", "bts")
OBD_CAMPAIGNS = ("all", "men", "women")
OBD_N_ITEMS = {"all": 80, "men": 34, "women": 46}
OBD_N_ROWS = 10_000
OBD_DIR_ENV = "RERANK_LAB_OBD_DIR"
CHECKSUM_FILE = "SHA256SUMS.csv-uncompressed"

# rerank_lib/ sits next to datasets/ in the repository (an editable install keeps it there).
_REPOSITORY_OBD_DIR = Path(__file__).resolve().parent.parent / "datasets" / "obd"


class ChecksumError(ValueError):
    """A data file's SHA256 does not match the checksum file: the copy is corrupt or was edited."""


def open_bandit_dir(data_dir=None) -> Path:
    """The Open Bandit folder: `data_dir`, else $RERANK_LAB_OBD_DIR, else the repository's datasets/obd/."""
    if data_dir is not None:
        path, source = Path(data_dir), "data_dir"
    elif os.environ.get(OBD_DIR_ENV):
        path, source = Path(os.environ[OBD_DIR_ENV]), f"${OBD_DIR_ENV}"
    else:
        path, source = _REPOSITORY_OBD_DIR, "the repository's datasets/obd"
    if not (path / CHECKSUM_FILE).is_file():
        raise FileNotFoundError(
            f"no Open Bandit data at {path} (from {source}): expected {CHECKSUM_FILE}, random/ and bts/ there. "
            f"Run from a clone of the repository, or pass data_dir= or set ${OBD_DIR_ENV} to the datasets/obd folder."
        )
    return path


def load_open_bandit(policy: str, campaign: str, *, data_dir=None, verify: bool = True) -> pd.DataFrame:
    """The 10,000 logged impressions of one logging policy and campaign, in time order.

    policy: "random" (uniform over items) or "bts" (Bernoulli Thompson sampling).
    campaign: "all" (80 items), "men" (34) or "women" (46).
    verify: check the SHA256 of the uncompressed CSV against SHA256SUMS.csv-uncompressed
    (raises ChecksumError naming the file on mismatch).

    Columns (one row per impression; the file's unnamed row counter is dropped):

        timestamp              datetime64, UTC    when the impression was shown
        item_id                int64              the item (arm), 0 .. n_items - 1
        position               int64              1, 2, 3 = left, centre, right slot of the widget
        click                  int64              1 if the item was clicked, else 0
        propensity_score       float64            the logging policy's probability of showing this
                                                  item at this position, in (0, 1]; 1 / n_items under random
        user_feature_0..3      category           hashed categorical user features
        user_item_affinity_j   float64            past clicks between this user and item j
                                                  (j = 0 .. n_items - 1; renamed from "user-item_affinity_j")

    Hashed values are salted per policy: the same category has different hashes
    in the random and bts files, so join user features within one policy only.
    """
    folder, name = _locate(policy, campaign, data_dir)
    raw = _read_verified(folder, f"{policy}/{campaign}/{campaign}.csv.gz", f"{policy}/{campaign}/{campaign}.csv", verify)
    frame = pd.read_csv(io.BytesIO(raw), index_col=0)
    frame = frame.rename(columns=lambda column: column.replace("user-item_affinity", "user_item_affinity"))
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True, format="ISO8601")
    for column in frame.columns:
        if column.startswith("user_feature_"):
            frame[column] = frame[column].astype("category")
    for column in ("item_id", "position", "click"):
        frame[column] = frame[column].astype(np.int64)
    frame["propensity_score"] = frame["propensity_score"].astype(np.float64)
    frame = frame.reset_index(drop=True)
    frame.index.name = None
    frame.attrs.update(source="Open Bandit Dataset (Saito et al., NeurIPS 2021), CC BY 4.0", policy=policy, campaign=campaign)
    return frame


def load_open_bandit_items(campaign: str, *, policy: str = "random", data_dir=None, verify: bool = True) -> pd.DataFrame:
    """The item features of a campaign, one row per item, indexed 0 .. n_items - 1.

    Columns: item_id (int64); item_feature_0 (float64, a standardised numeric
    feature); item_feature_1..3 (category, hashed categorical features). Each
    policy's folder carries its own copy; the hashes differ between policies
    (salted per policy), so take the items from the same policy as the logs.
    """
    folder, _ = _locate(policy, campaign, data_dir)
    relative = f"{policy}/{campaign}/item_context.csv"
    raw = _read_verified(folder, relative, relative, verify)
    items = pd.read_csv(io.BytesIO(raw), index_col=0)
    items["item_id"] = items["item_id"].astype(np.int64)
    items["item_feature_0"] = items["item_feature_0"].astype(np.float64)
    for column in ("item_feature_1", "item_feature_2", "item_feature_3"):
        items[column] = items[column].astype("category")
    items = items.reset_index(drop=True)
    items.attrs.update(policy=policy, campaign=campaign)
    return items


# --- summaries the notebooks plot ----------------------------------------------------------------


def _ctr_summary(clicks: pd.Series, impressions: pd.Series) -> pd.DataFrame:
    ctr = clicks / impressions.where(impressions > 0)
    return pd.DataFrame(
        {
            "impressions": impressions.astype(np.int64),
            "clicks": clicks.astype(np.int64),
            "ctr": ctr,
            "ctr_se": np.sqrt(ctr * (1 - ctr) / impressions.where(impressions > 0)),
        }
    )


def ctr_by_policy_and_campaign(*, data_dir=None, verify: bool = True) -> pd.DataFrame:
    """CTR of every (policy, campaign) log: index (policy, campaign); impressions, clicks, ctr, ctr_se.

    `.ctr.unstack()` gives the policy x campaign table; compare policies within a
    campaign, since the campaigns show different item sets.
    """
    rows = {}
    for policy in OBD_POLICIES:
        for campaign in OBD_CAMPAIGNS:
            clicks = load_open_bandit(policy, campaign, data_dir=data_dir, verify=verify)["click"]
            rows[(policy, campaign)] = (int(clicks.sum()), len(clicks))
    index = pd.MultiIndex.from_tuples(list(rows), names=["policy", "campaign"])
    clicks = pd.Series([c for c, _ in rows.values()], index=index)
    impressions = pd.Series([n for _, n in rows.values()], index=index)
    return _ctr_summary(clicks, impressions)


def ctr_by_position(frame: pd.DataFrame) -> pd.DataFrame:
    """CTR at each widget position of a log: index position (1, 2, 3); impressions, clicks, ctr, ctr_se."""
    _check_log(frame, ("position", "click"))
    grouped = frame.groupby("position", sort=True)["click"]
    return _ctr_summary(grouped.sum(), grouped.size())


def item_popularity(frame: pd.DataFrame, *, n_items: int | None = None) -> pd.DataFrame:
    """Impressions and clicks per item of a log: index item_id; impressions, clicks, ctr, ctr_se, impression_share.

    Items the log never showed appear with zero impressions (ctr NaN) when
    `n_items` is given, or when the frame comes from `load_open_bandit`.
    Sort by impressions or clicks to see the popularity curve.
    """
    _check_log(frame, ("item_id", "click"))
    if n_items is None and frame.attrs.get("campaign") in OBD_N_ITEMS:
        n_items = OBD_N_ITEMS[frame.attrs["campaign"]]
    grouped = frame.groupby("item_id", sort=True)["click"]
    clicks, impressions = grouped.sum(), grouped.size()
    if n_items is not None:
        n_items = check_positive_int("n_items", n_items)
        ids = pd.RangeIndex(n_items, name="item_id")
        if len(impressions) and impressions.index.max() >= n_items:
            raise ValueError(f"n_items must exceed every item_id, got n_items={n_items} and item_id up to {impressions.index.max()}")
        clicks, impressions = clicks.reindex(ids, fill_value=0), impressions.reindex(ids, fill_value=0)
    table = _ctr_summary(clicks, impressions)
    table["impression_share"] = table["impressions"] / table["impressions"].sum()
    return table


# --- internals -------------------------------------------------------------------------------------


def _locate(policy: str, campaign: str, data_dir) -> tuple[Path, str]:
    check_choice("policy", policy, OBD_POLICIES)
    check_choice("campaign", campaign, OBD_CAMPAIGNS)
    return open_bandit_dir(data_dir), f"{policy}/{campaign}"


def _check_log(frame, columns) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame (a log from load_open_bandit), got {type(frame).__name__}")
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"frame must have columns {list(columns)}, missing {missing}")


def _checksums(folder: Path) -> dict[str, str]:
    """{relative path: sha256} from the checksum file (lines "<hex>  ./<path>")."""
    sums = {}
    for line in (folder / CHECKSUM_FILE).read_text().splitlines():
        if line.strip():
            digest, relative = line.split(maxsplit=1)
            sums[relative.strip().removeprefix("./")] = digest.lower()
    return sums


def _read_verified(folder: Path, stored: str, listed: str, verify: bool) -> bytes:
    """Bytes of `stored` (gunzipped when it ends in .gz), checked against the checksum of `listed`."""
    path = folder / stored
    if not path.is_file():
        raise FileNotFoundError(f"Open Bandit file missing: {path}")
    data = path.read_bytes()
    if stored.endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as error:  # bad gzip is a corrupt file too
            raise ChecksumError(f"{path} is not a readable gzip file ({error}); the copy is corrupt") from None
    if verify:
        expected = _checksums(folder).get(listed)
        if expected is None:
            raise ChecksumError(f"{folder / CHECKSUM_FILE} has no checksum for {listed}")
        actual = hashlib.sha256(data).hexdigest()
        if actual != expected:
            raise ChecksumError(
                f"checksum mismatch for {path} (uncompressed {Path(listed).name}): "
                f"expected sha256 {expected}, got {actual}; the copy is corrupt or was edited"
            )
    return data

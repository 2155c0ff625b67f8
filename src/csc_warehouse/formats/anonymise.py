"""Pseudonymisation on the way in: nothing that names a child reaches the canonical files.

- **Ids.** A child's id (SSDA903 ``CHILD``, CIN census ``LAchildID``) becomes
  ``HMAC-SHA256(key, "child" | la_code | id)``, written as its first 24 hex digits (96 bits: no two
  of a council's children will share one). The key comes from the environment variable
  ``CSCW_PSEUDONYMISATION_KEY`` and is never written anywhere; without it the import stops. The same
  key gives the same pseudonym every month, so returns imported at different times join up; with
  another key, or from another authority, the pseudonyms are unrelated. Social worker ids
  (``SW_ID``) are pseudonymised the same way under the label "worker".
- **Dates of birth** are reduced to the first day of their month (``birth_month``).
- **Postcodes** (``HOME_POST``, ``PL_POST``) are not carried into the canonical form at all; in the
  import quarantine file they are cut to their district (the outward code, e.g. ``SG13``).
- **UPNs**, former UPNs and the mother's child's date of birth are dropped.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

KEY_ENV = "CSCW_PSEUDONYMISATION_KEY"
MIN_KEY_LENGTH = 16
ID_HEX_DIGITS = 24

CHILD_ID_COLUMNS = ("CHILD", "CHILDID", "LAchildID", "Child Unique ID")
WORKER_ID_COLUMNS = ("SW_ID", "Allocated Worker")
BIRTH_COLUMNS = ("DOB", "PersonBirthDate", "ExpectedPersonBirthDate", "PersonDeathDate", "Date of Birth")
POSTCODE_COLUMNS = ("HOME_POST", "PL_POST", "Placement postcode")
DROPPED_COLUMNS = ("UPN", "FormerUPN", "MC_DOB", "FORMER_UPN")
# The SSD names its columns <table prefix>_<field>: every *_person_id is a child id, every
# *_professional_id / *_worker_id a worker; dates of birth and death are kept as months; names,
# UPNs, NHS numbers and free text never reach a quarantine record.
SSD_CHILD_ID_SUFFIX = "_person_id"
SSD_WORKER_ID_SUFFIXES = ("_professional_id", "_worker_id", "_personal_advisor")
SSD_BIRTH_COLUMNS = ("pers_dob", "pers_expected_dob", "pers_death_date")
SSD_DROPPED = (
    "pers_forename", "pers_surname", "pers_upn", "pers_single_unique_id", "pers_common_child_id",
    "pers_legacy_id", "pers_nationality", "clap_cla_placement_postcode",
)  # fmt: skip


def _is_child_id(name: str) -> bool:
    return name in CHILD_ID_COLUMNS or name.endswith(SSD_CHILD_ID_SUFFIX)


def _is_worker_id(name: str) -> bool:
    return name in WORKER_ID_COLUMNS or name.endswith(SSD_WORKER_ID_SUFFIXES)


class KeyMissing(Exception):
    """The pseudonymisation key is not set (or too short to be a secret)."""


def key_from_environment() -> bytes:
    key = os.environ.get(KEY_ENV, "")
    if not key:
        raise KeyMissing(
            f"{KEY_ENV} is not set. Child ids are replaced by a keyed hash on the way in, and the key is "
            f"never stored: set it to a secret of at least {MIN_KEY_LENGTH} characters kept outside the "
            f"warehouse (the same secret every month, so that children join up across imports)."
        )
    if len(key) < MIN_KEY_LENGTH:
        raise KeyMissing(
            f"{KEY_ENV} has {len(key)} characters; use a secret of at least {MIN_KEY_LENGTH}, or the "
            f"pseudonyms could be reversed by trying every short key."
        )
    return key.encode("utf-8")


@dataclass(frozen=True)
class Pseudonymiser:
    key: bytes
    la_code: str

    def one(self, value: str, kind: str = "child") -> str:
        message = f"{kind}\x1f{self.la_code}\x1f{value}".encode()
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()[:ID_HEX_DIGITS]

    def ids(self, values: pd.Series, kind: str = "child") -> pd.Series:
        """Pseudonyms of a column of ids (each distinct id hashed once)."""
        distinct = {v: self.one(str(v), kind) for v in pd.unique(values.dropna())}
        return values.map(distinct)

    def describe(self) -> Callable[[pd.DataFrame], list[str]]:
        """A quarantine-record writer for source rows: the row as JSON, identifiers treated as above."""

        def records(rows: pd.DataFrame) -> list[str]:
            from csc_warehouse.formats.common import parse_dates

            # Only the source's own columns: not the bookkeeping (_file ...), parsed dates or pseudonyms.
            keep = [
                c
                for c in rows.columns
                if not c.startswith("_") and not (c.endswith("_date") and c[:-5] in rows) and c != "child"
            ]
            data = rows[[c for c in keep if c not in DROPPED_COLUMNS and c not in SSD_DROPPED]].copy()
            for name in data.columns:
                values = data[name]
                if _is_child_id(name):
                    data[name] = self.ids(values.where(values.fillna("") != "", None))
                elif _is_worker_id(name):
                    data[name] = self.ids(values.where(values.fillna("") != "", None), "worker")
                elif name in BIRTH_COLUMNS or name in SSD_BIRTH_COLUMNS:
                    data[name] = parse_dates(values)[0].dt.strftime("%Y-%m")
                elif name in POSTCODE_COLUMNS:
                    data[name] = values.fillna("").astype(str).map(postcode_district)
            return [
                json.dumps(
                    {k: v for k, v in rec.items() if v is not None and v == v and v != ""}, default=str
                )
                for rec in data.to_dict("records")
            ]

        return records


def birth_month(dates: pd.Series) -> pd.Series:
    """The first day of each date's month."""
    dates = pd.to_datetime(dates)
    return (dates - pd.to_timedelta(dates.dt.day - 1, unit="D")).dt.normalize()


def postcode_district(postcode: str) -> str:
    """The outward code of a UK postcode ("SG13 8DQ" -> "SG13"); '' when it does not look like one."""
    text = "".join(postcode.upper().split())
    if not 5 <= len(text) <= 7:
        return ""
    return text[:-3]

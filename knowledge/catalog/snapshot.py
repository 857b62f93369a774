"""The shipped snapshot of the official catalogue, and the API the search and answers use to read it.

`knowledge/data/official/catalog.jsonl.gz`: one JSON object per procedure code, sorted by code, gzip with no
timestamp, so the same records always give the same bytes (a re-import leaves git with nothing to commit).

    from knowledge.catalog.snapshot import load_catalog
    catalog = load_catalog()
    record = catalog.get("1.014064")           # OfficialRecord or None
    catalog.offered(province="bắc ninh")        # what a citizen of Bắc Ninh may be offered
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import settings
from knowledge.catalog.model import OfficialRecord
from knowledge.catalog.provinces import match_province

OFFICIAL_DIR = Path(__file__).resolve().parents[1] / "data" / "official"
DEFAULT_SNAPSHOT = OFFICIAL_DIR / "catalog.jsonl.gz"


def snapshot_bytes(records: Iterable[OfficialRecord]) -> bytes:
    lines = [
        json.dumps(record.model_dump(mode="json"), ensure_ascii=False, separators=(",", ":"))
        for record in sorted(records, key=lambda r: _code_key(r.code))
    ]
    raw = ("\n".join(lines) + "\n").encode("utf-8")
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=9, mtime=0) as stream:
        stream.write(raw)
    return buffer.getvalue()


def write_snapshot(records: Iterable[OfficialRecord], path: Path = DEFAULT_SNAPSHOT) -> int:
    """Write atomically (a running bot never reads half a file); return the size in bytes."""
    data = snapshot_bytes(records)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    partial.replace(path)
    return len(data)


def load_snapshot(path: Path = DEFAULT_SNAPSHOT) -> list[OfficialRecord]:
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        return [OfficialRecord.model_validate_json(line) for line in stream if line.strip()]


def by_code(records: Iterable[OfficialRecord]) -> dict[str, OfficialRecord]:
    return {record.code: record for record in records}


def _code_key(code: str) -> tuple[int, int]:
    major, minor = code.split(".")
    return int(major), int(minor)


def deployment_province() -> str | None:
    """The province set for this deployment (`MOCUA_PROVINCE`, any spelling), as its official name."""
    return match_province(settings.current().province)


@dataclass(frozen=True)
class Catalog:
    records: tuple[OfficialRecord, ...]
    _by_code: dict[str, OfficialRecord] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_code", by_code(self.records))

    def get(self, code: str) -> OfficialRecord | None:
        return self._by_code.get(code.strip())

    def offered(self, province: str | None = None) -> list[OfficialRecord]:
        """Every national procedure, plus the province-specific ones of the province the citizen named
        (any spelling: "bac ninh", "Tỉnh Bắc Ninh") or, failing that, of the deployment's province."""
        chosen = match_province(province) or deployment_province()
        return [record for record in self.records if record.offered_in(chosen)]

    def specific_to(self, province: str) -> list[OfficialRecord]:
        official = match_province(province)
        return [r for r in self.records if r.type == "SPECIFIC" and official is not None and r.province == official]


def load_catalog(path: Path = DEFAULT_SNAPSHOT) -> Catalog:
    """The snapshot as a Catalog; re-read only when the file changes (staff may apply a sync while serving)."""
    stat = path.stat()
    return _load_cached(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=2)
def _load_cached(path: Path, mtime_ns: int, size: int) -> Catalog:
    return Catalog(tuple(load_snapshot(path)))

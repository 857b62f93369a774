"""The 34 provinces since the 2025 merger, as the portal lists them, and a matcher for what citizens type."""

from __future__ import annotations

import re
from functools import lru_cache

from knowledge.text import fold

# (code, official name) from the portal's province list (opengov/provinces.json, 2026).
PROVINCES: tuple[tuple[str, str], ...] = (
    ("01", "Thành phố Hà Nội"),
    ("04", "Tỉnh Cao Bằng"),
    ("08", "Tỉnh Tuyên Quang"),
    ("11", "Tỉnh Điện Biên"),
    ("12", "Tỉnh Lai Châu"),
    ("14", "Tỉnh Sơn La"),
    ("15", "Tỉnh Lào Cai"),
    ("19", "Tỉnh Thái Nguyên"),
    ("20", "Tỉnh Lạng Sơn"),
    ("22", "Tỉnh Quảng Ninh"),
    ("24", "Tỉnh Bắc Ninh"),
    ("25", "Tỉnh Phú Thọ"),
    ("31", "Thành phố Hải Phòng"),
    ("33", "Tỉnh Hưng Yên"),
    ("37", "Tỉnh Ninh Bình"),
    ("38", "Tỉnh Thanh Hóa"),
    ("40", "Tỉnh Nghệ An"),
    ("42", "Tỉnh Hà Tĩnh"),
    ("44", "Tỉnh Quảng Trị"),
    ("46", "Thành phố Huế"),
    ("48", "Thành phố Đà Nẵng"),
    ("51", "Tỉnh Quảng Ngãi"),
    ("52", "Tỉnh Gia Lai"),
    ("56", "Tỉnh Khánh Hòa"),
    ("66", "Tỉnh Đắk Lắk"),
    ("68", "Tỉnh Lâm Đồng"),
    ("75", "Thành phố Đồng Nai"),
    ("79", "Thành phố Hồ Chí Minh"),
    ("80", "Tỉnh Tây Ninh"),
    ("82", "Tỉnh Đồng Tháp"),
    ("86", "Tỉnh Vĩnh Long"),
    ("91", "Tỉnh An Giang"),
    ("92", "Thành phố Cần Thơ"),
    ("96", "Tỉnh Cà Mau"),
)
NAMES: tuple[str, ...] = tuple(name for _, name in PROVINCES)

# Other ways citizens name a province (folded: no diacritics, lower case).
_ALIASES: dict[str, str] = {
    "tphcm": "Thành phố Hồ Chí Minh",
    "tp hcm": "Thành phố Hồ Chí Minh",
    "hcm": "Thành phố Hồ Chí Minh",
    "sai gon": "Thành phố Hồ Chí Minh",
}


def core_name(official: str) -> str:
    """"Tỉnh Bắc Ninh" → "Bắc Ninh"."""
    return re.sub(r"^(Tỉnh|Thành phố)\s+", "", official)


@lru_cache(maxsize=1)
def _patterns() -> list[tuple[re.Pattern[str], str]]:
    keys = {fold(core_name(name)): name for name in NAMES} | _ALIASES
    # Longest first, so "bac ninh" is tried before a shorter name it might contain.
    return [(re.compile(rf"(?<![a-z0-9]){re.escape(key)}(?![a-z0-9])"), name)
            for key, name in sorted(keys.items(), key=lambda item: -len(item[0]))]  # fmt: skip


def match_province(text: str | None) -> str | None:
    """The official name of the province named in `text` ("bac ninh", "UBND tỉnh Bắc Ninh"…), if exactly one."""
    if not text:
        return None
    folded = re.sub(r"[^a-z0-9]+", " ", fold(text))
    found = {name for pattern, name in _patterns() if pattern.search(folded)}
    return found.pop() if len(found) == 1 else None

"""Typed records of the knowledge base: one procedure per YAML file, guides as Markdown.

Field reference for staff: knowledge/README.md.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from knowledge.text import clean

Domain = Literal[
    "hộ tịch",
    "cư trú",
    "căn cước",
    "xuất nhập cảnh",
    "chứng thực",
    "tư pháp",
    "đất đai",
    "xây dựng",
    "kinh doanh",
    "giao thông",
    "lao động",
    "bảo hiểm",
    "bảo trợ xã hội",
    "giáo dục",
    "y tế",
    "khác",
]
Level = Literal["xã", "tỉnh", "trung ương"]
Channel = Literal["trực tiếp", "bưu chính", "trực tuyến"]
OnlineLevel = Literal["toàn trình", "một phần", "không"]
ReformStatus = Literal["confirmed", "unverified"]


class Record(BaseModel):
    """Common behaviour: unknown fields are errors (catches typos) and text is NFC-clean."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _nfc(cls, value: object) -> object:
        return clean(value) if isinstance(value, str) else value


class Online(Record):
    available: bool
    level: OnlineLevel = "không"
    portal: str | None = None


class Submission(Record):
    where: str = Field(min_length=3)
    channels: list[Channel] = Field(min_length=1)
    online: Online


class RequiredDocument(Record):
    name: str = Field(min_length=3)
    copies: int = Field(default=1, ge=0)
    note: str | None = None


class Reform2025(Record):
    """How the 1 July 2025 two-level reorganisation touches this record."""

    status: ReformStatus
    note: str = Field(min_length=10)


class Procedure(Record):
    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    name: str = Field(min_length=5)
    aliases: list[str] = Field(default_factory=list)
    domain: Domain
    level: Level
    agency: str = Field(min_length=3)
    submission: Submission
    documents: list[RequiredDocument] = Field(min_length=1)
    steps: list[str] = Field(default_factory=list)
    processing_time: str = Field(min_length=3)
    fee: str = Field(min_length=3)
    eligibility: str | None = None
    result: str = Field(min_length=3)
    legal_basis: list[str] = Field(min_length=1)
    source: str = Field(min_length=5)
    last_reviewed: dt.date
    reform_2025: Reform2025 | None = None
    notes: str | None = None


class Guide(Record):
    """Front matter of a Markdown guide; ``body`` is the Markdown after it."""

    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    title: str = Field(min_length=5)
    aliases: list[str] = Field(default_factory=list)
    source: str = Field(min_length=5)
    last_reviewed: dt.date
    reform_2025: Reform2025 | None = None
    body: str = Field(default="", exclude=True)

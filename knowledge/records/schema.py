"""Typed records of the knowledge base: one procedure per YAML file, guides as Markdown.

Field reference for staff: knowledge/README.md.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

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
# A code of the national catalogue ("1.014064"); at least six decimals, so a spreadsheet that turned "1.000970"
# into the number 1.00097 is caught instead of linking another procedure.
OFFICIAL_CODE = r"^\d+\.\d{6,}$"
# Facts a citizen acts on. A record linked to official codes may leave them out: the official record supplies them
# (knowledge/records/facts.py) and `make kb-lint` compares any it keeps. Without official codes they are required.
FACT_FIELDS = ("level", "agency", "submission", "documents", "processing_time", "fee", "result", "legal_basis")


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


class CaseNames(Record):
    """Plain words for the official page's cases (its document groups), which the bot asks about with buttons.

    Keys are words of an official case's name ("thuê, mượn, ở nhờ"); a key names the shortest case containing it."""

    common: str | None = Field(default=None, min_length=3)  # the case most citizens are in: offered first
    names: dict[str, str] = Field(default_factory=dict)  # words of a case's name -> its plain name (a button)


class Reform2025(Record):
    """How the 1 July 2025 two-level reorganisation touches this record."""

    status: ReformStatus
    note: str = Field(min_length=10)


class Procedure(Record):
    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    name: str = Field(min_length=5)
    official_codes: list[str] = Field(default_factory=list)  # main code first, e.g. the commune-level variant
    aliases: list[str] = Field(default_factory=list)
    domain: Domain
    level: Level | None = None
    agency: str | None = Field(default=None, min_length=3)
    submission: Submission | None = None
    documents: list[RequiredDocument] | None = Field(default=None, min_length=1)
    steps: list[str] = Field(default_factory=list)
    processing_time: str | None = Field(default=None, min_length=3)
    fee: str | None = Field(default=None, min_length=3)
    # By when the citizen must apply ("trong 60 ngày kể từ ngày sinh"), when the law sets it: not processing_time.
    deadline: str | None = Field(default=None, min_length=10)
    eligibility: str | None = None
    result: str | None = Field(default=None, min_length=3)
    legal_basis: list[str] | None = Field(default=None, min_length=1)
    source: str = Field(min_length=5)
    last_reviewed: dt.date
    reform_2025: Reform2025 | None = None
    notes: str | None = None
    cases: CaseNames | None = None  # plain names of the official page's cases (actions/cases.py)

    @field_validator("official_codes")
    @classmethod
    def _codes(cls, codes: list[str]) -> list[str]:
        for code in codes:
            if not re.match(OFFICIAL_CODE, code):
                raise ValueError(f"mã thủ tục chính thức «{code}» không đúng dạng, ví dụ đúng: 1.014064")
        if len(set(codes)) != len(codes):
            raise ValueError("một mã được ghi hai lần")
        return codes

    @model_validator(mode="after")
    def _facts_when_unlinked(self) -> Procedure:
        # Safety net for code that validates Procedure directly; the loader uses UnlinkedProcedure, which names
        # each missing field at its own location.
        missing = [name for name in FACT_FIELDS if getattr(self, name) is None]
        if not self.official_codes and missing:
            raise ValueError(f"thiếu {', '.join(missing)} (bắt buộc khi chưa có official_codes)")
        return self


class UnlinkedProcedure(Procedure):
    """A procedure with no official counterpart: every fact comes from the file, so each one is required."""

    level: Level
    agency: str = Field(min_length=3)
    submission: Submission
    documents: list[RequiredDocument] = Field(min_length=1)
    processing_time: str = Field(min_length=3)
    fee: str = Field(min_length=3)
    result: str = Field(min_length=3)
    legal_basis: list[str] = Field(min_length=1)


def procedure_model(data: object) -> type[Procedure]:
    """The model a procedure file is validated with: the strict one unless it names official codes."""
    linked = isinstance(data, dict) and bool(data.get("official_codes"))
    return Procedure if linked else UnlinkedProcedure


class Guide(Record):
    """Front matter of a Markdown guide; ``body`` is the Markdown after it."""

    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    title: str = Field(min_length=5)
    aliases: list[str] = Field(default_factory=list)
    source: str = Field(min_length=5)
    last_reviewed: dt.date
    reform_2025: Reform2025 | None = None
    body: str = Field(default="", exclude=True)

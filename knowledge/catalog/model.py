"""The typed official record: one procedure code of the national catalogue, whatever source it came from.

Every source parser (portal pages, portal API, 2024 pages, title lists) produces these, so the importer,
the snapshot and the sync client compare and merge like with like.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Method = Literal["trực tiếp", "trực tuyến", "bưu chính"]
TimeUnit = Literal["ngày làm việc", "ngày", "giờ", "tuần", "tháng", "năm"]
# amount: a fixed sum; free: nothing to pay; province: each province's council sets it;
# described: the portal lists no usable amount but its text states one or several (read `text`).
FeeKind = Literal["amount", "free", "province", "described"]
# "huyện" only appears in records marked predates_2025_reform (districts were abolished on 1 July 2025).
Level = Literal["trung ương", "tỉnh", "xã", "huyện", "khác"]
Source = Literal[
    "national-portal-2026",  # full pages crawled from dichvucong.gov.vn, June–July 2026
    "opengov-api-2026",  # the portal's JSON API, crawled 18 July 2026
    "catalog-titles-2026",  # the portal's list of every published procedure: titles only
    "rag4publicsector-2024",  # procedure database pages of 2024, before the reorganisation
    "portal-api",  # the portal's JSON API, fetched by `make kb-sync-catalog`
]
Detail = Literal["full", "titles_only"]
ProcedureType = Literal["STANDARD", "SPECIFIC", "STANDARD_INTERNAL"]
Audience = Literal["citizen", "foreigner", "enterprise", "cooperative", "organisation", "official", "party"]

# Fields a fresher API answer may leave empty that an older full record of the same code can fill.
FILLABLE = ("levels", "fields", "target_groups", "audiences", "agency", "competent_authority", "where",
            "documents", "steps", "conditions", "result", "legal_basis", "decision", "portal_url")  # fmt: skip

PROCEDURE_TYPES: tuple[ProcedureType, ...] = ("STANDARD", "SPECIFIC", "STANDARD_INTERNAL")


def procedure_type(value: object) -> ProcedureType:
    """The portal's type of a procedure; STANDARD when it gives none or one we do not know."""
    return next((known for known in PROCEDURE_TYPES if known == value), "STANDARD")


CODE_RE = re.compile(r"^\d+\.\d+$")
DATE_RE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")  # a crawl date known to the day, the month or the year


_LEADING_THU_TUC = re.compile(r"^\s*(thủ tục|tthc)\s*[:\-–]?\s*", re.IGNORECASE)
_LISTING_BRACKET = re.compile(r"\s*\([^()]*\)\s*$")
_LISTING_CHANNEL = re.compile(r"\s+(thực hiện\s+)?bằng dịch vụ công\b.*$", re.IGNORECASE)


def display_name(name: str) -> str:
    """The portal's name as a citizen should read it: no "Thủ tục" prefix, no trailing dot, no SHOUTING."""
    text = _LEADING_THU_TUC.sub("", name.strip()).rstrip(" .")
    letters = [c for c in text if c.isalpha()]
    if letters and sum(c.isupper() for c in letters) > 0.8 * len(letters):
        text = text.lower()
    return text[:1].upper() + text[1:] if text else name


def unlisted_name(name: str) -> str:
    """The name without what says how this listing is done: a closing bracket giving the level or agency ("…
    (thực hiện tại cấp tỉnh)", "… (cấp Trung ương)") or a closing channel ("… thực hiện bằng dịch vụ công trực
    tuyến toàn trình"). That is the procedure as a citizen names it: the national catalogue lists one procedure once
    per level, agency or channel, and nobody types those tails."""
    return _LISTING_CHANNEL.sub("", _LISTING_BRACKET.sub("", name)).strip() or name


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProcessingTime(Model):
    value: float | None = None  # None when the portal gives only prose
    unit: TimeUnit | None = None  # None when the portal gives a bare number ("see the description")
    text: str = ""  # as the source wrote it


class FeePeriod(Model):
    """A rate the fee's text states for a period ("bằng 50% mức thu … từ ngày 01/7/2025 đến hết ngày 31/12/2026").

    Neither `percent` nor `amount_vnd`: the fee as listed is what applies in that period (and only then).
    """

    percent: float | None = None  # what is paid, as a share of the standard fee: "bằng 50%" and "giảm 50%" are 50
    amount_vnd: int | None = None  # the rate in force in the period ("áp dụng mức phí 400.000 đồng")
    start: str | None = None  # YYYY-MM-DD, first day; None: already in force when the text was written
    end: str | None = None  # YYYY-MM-DD, last day ("đến hết ngày"); None: no end stated
    channel: Method | None = None  # only for this way of submitting ("nộp hồ sơ theo hình thức trực tuyến")
    legal: str | None = None  # the act that sets it: "64/2025/TT-BTC"
    text: str = ""  # the sentence it was read from


class Fee(Model):
    kind: FeeKind
    amount_vnd: int | None = None  # set for kind "amount" in đồng
    amount: float | None = None  # set for kind "amount" in a foreign currency
    currency: Literal["VND", "USD"] | None = None
    text: str = ""  # the fee's own description on the portal
    listed_vnd: int | None = None  # the portal's own figure, when amount_vnd was restored from the fee's text
    suspect: bool = False  # an amount in đồng under 1,000 that its own text does not explain: check the portal
    periods: list[FeePeriod] = Field(default_factory=list)  # temporary rates the text states with dates

    def key(self) -> tuple[str, float | None, str | None]:
        """What two sources must share to agree on this fee."""
        return (self.kind, self.amount_vnd if self.currency == "VND" else self.amount, self.currency)


class Channel(Model):
    method: Method
    time: ProcessingTime | None = None
    fees: list[Fee] = Field(default_factory=list)  # empty: the source says nothing about the fee
    note: str = ""


# document: a paper of the dossier; note: an explanation the page lists among them ("Lưu ý …").
DocumentKind = Literal["document", "note"]
# What the citizen does with the paper, as the page words it; "nộp" when the page says nothing else.
Handling = Literal["nộp", "xuất trình", "nộp hoặc xuất trình"]


class Document(Model):
    name: str
    originals: int | None = None  # bản chính; None when the source does not say
    copies: int | None = None  # bản sao
    form: str | None = None  # file name of the official form, when the portal attaches one
    group: str | None = None  # the heading it sits under ("Giấy tờ phải nộp", a case…)
    kind: DocumentKind = "document"
    handling: Handling = "nộp"
    form_code: str | None = None  # the form's code as the page names it: "CT01", "TK1-TS", "14-HSB"
    case: str | None = None  # the page's case (its group heading) this belongs to; None: every case
    condition: str | None = None  # when the paper's own words limit it: "Trường hợp trẻ em bị bỏ rơi", "nếu có"


class Case(Model):
    """One of the page's groups of documents for a situation ("… do thuê, mượn, ở nhờ")."""

    name: str
    documents: list[Document] = Field(default_factory=list)


class LegalBasis(Model):
    number: str | None  # "123/2015/NĐ-CP"; None when the source gives a title only
    title: str = ""


class OfficialRecord(Model):
    code: str
    name: str
    levels: list[Level] = Field(default_factory=list)
    fields: list[str] = Field(default_factory=list)  # lĩnh vực
    target_groups: list[str] = Field(default_factory=list)  # the portal's own labels
    audiences: list[Audience] = Field(default_factory=list)  # the same, grouped for filtering
    agency: str | None = None  # cơ quan thực hiện
    competent_authority: str | None = None  # cơ quan có thẩm quyền, when it differs
    where: str | None = None  # địa chỉ tiếp nhận hồ sơ
    channels: list[Channel] = Field(default_factory=list)
    documents: list[Document] = Field(default_factory=list)
    steps: list[str] = Field(default_factory=list)
    conditions: str | None = None
    result: list[str] = Field(default_factory=list)
    legal_basis: list[LegalBasis] = Field(default_factory=list)
    decision: str | None = None  # the decision that published the procedure
    portal_url: str | None = None
    source: Source
    other_sources: list[Source] = Field(default_factory=list)  # sources that also hold this code
    crawled: str
    detail: Detail
    predates_2025_reform: bool = False
    type: ProcedureType = "STANDARD"
    province: str | None = None  # official province name, for SPECIFIC records
    promulgated_by: str | None = None  # the ministry, or the province for SPECIFIC

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        if not CODE_RE.match(value):
            raise ValueError(f"not a procedure code: {value!r}")
        return value

    @field_validator("crawled")
    @classmethod
    def _crawled(cls, value: str) -> str:
        if not DATE_RE.match(value):
            raise ValueError(f"crawl date must be YYYY, YYYY-MM or YYYY-MM-DD: {value!r}")
        return value

    @property
    def has_details(self) -> bool:
        return self.detail == "full"

    def offered_in(self, province: str | None) -> bool:
        """A province's own procedure is offered only to a citizen of that province."""
        if self.type != "SPECIFIC":
            return True
        return province is not None and province == self.province

    def channel(self, method: Method) -> Channel | None:
        return next((c for c in self.channels if c.method == method), None)

    @property
    def papers(self) -> list[Document]:
        """The documents proper, without the notes the page lists among them."""
        return [d for d in self.documents if d.kind == "document"]

    @property
    def document_notes(self) -> list[str]:
        return [d.name for d in self.documents if d.kind == "note"]

    @property
    def common_documents(self) -> list[Document]:
        """The papers every case needs (all of them when the page has no cases)."""
        return [d for d in self.papers if d.case is None]

    @property
    def cases(self) -> list[Case]:
        names = list(dict.fromkeys(d.case for d in self.papers if d.case))
        return [Case(name=name, documents=[d for d in self.papers if d.case == name]) for name in names]

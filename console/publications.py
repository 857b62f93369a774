"""The publish page in staff's words: each publication of the knowledge (a build of console.builds) as when it ran,
who asked for what, how long it took, its result in words, and what it changed for citizens.

A build stopped by the knowledge linter names the file and line the linter reported, with the linter's advice worded
for the form (console.problems), and says that the bot keeps answering from the previous version. The build's own
log lines and version codes are for the technician: the page keeps them behind «Chi tiết kỹ thuật».
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from console.builds import in_seconds
from console.config import ROOT
from console.dashboard import show_time
from console.problems import explain
from knowledge.index.worker import BuildRun
from knowledge.records.loader import Problem

_VERSION_STAMP = re.compile(r"^(\d{8}T\d{6})")  # versions/<UTC stamp>-<hash> (knowledge.index.build.write_version)
SYSTEM_FAILURE = ("việc xuất bản bị dừng giữa chừng vì một lỗi của hệ thống, không phải của nội dung thủ tục — hãy "
                  "báo kỹ thuật viên (xem «Chi tiết kỹ thuật»)")  # fmt: skip


@dataclass(frozen=True)
class Publication:
    when: str  # 06/12/2026 18:15, Vietnam time
    reason: str  # who asked for what («Sửa Phí, lệ phí của thủ tục «…» (lan)»)
    state: str  # running | published | unchanged | partial | failed
    result: str  # «Đã xuất bản», «Lỗi: …», «Đang xuất bản…»
    took: str = ""  # «1,3 giây»; empty while running
    problems: list[str] = field(default_factory=list)  # each linter problem in words, with its file and line
    kept: str = ""  # a failed build: what the bot keeps answering from
    changes: list[str] = field(default_factory=list)  # what citizens are told anew
    step: str = ""  # what a running build is doing
    version: str = ""  # for the technician
    log: str = ""  # for the technician


def publications(runs: list[BuildRun], names: Mapping[str, str], knowledge_dir: Path) -> list[Publication]:
    return [publication(run, names, knowledge_dir) for run in runs]


def publication(run: BuildRun, names: Mapping[str, str], knowledge_dir: Path) -> Publication:
    """One build as the publish page shows it (`names`: record ids to their names)."""
    running = Publication(show_time(run.started), run.reason, "running", "Đang xuất bản…", step=run.step or "Chuẩn bị",
                          version=run.version or "", log="\n".join(run.lines))  # fmt: skip
    if run.finished is None:
        return running
    done = replace(running, step="", took=in_seconds(run.seconds))
    problems = [plain_problem(p, names, knowledge_dir) for p in run.problems]
    if run.status == "ok" and run.published:
        return replace(done, state="published", result="Đã xuất bản", changes=run.changes)
    if run.status == "ok":
        return replace(done, state="unchanged", result="Không có gì mới: trợ lý đã trả lời theo đúng nội dung này")
    if run.published:  # no version served before: one was published from the records without errors
        return replace(done, state="partial", result="Đã xuất bản, trừ phần bị lỗi bên dưới", problems=problems,
                       changes=run.changes)  # fmt: skip
    cause = problems[0] if len(problems) == 1 else f"{len(problems)} lỗi trong nội dung" if problems else SYSTEM_FAILURE
    return replace(done, state="failed", result=f"Lỗi: {cause}", problems=problems if len(problems) > 1 else [],
                   kept=kept_serving(run.version))  # fmt: skip


def plain_problem(problem: Problem, names: Mapping[str, str], knowledge_dir: Path) -> str:
    """«thủ tục «Đăng ký khai sinh», tệp procedures/x.yml, dòng 12 — Phí, lệ phí: …» from the linter's problem."""
    name = names.get(problem.file.stem)
    record = f"thủ tục «{name}», " if name else ""
    return f"{record}tệp {shown_file(problem.file, knowledge_dir)}, dòng {problem.line} — {explain(problem)}"


def shown_file(path: Path, knowledge_dir: Path) -> str:
    """The file within the knowledge folder (procedures/x.yml), else as the linter reported it."""
    try:
        return str((ROOT / path).resolve().relative_to(Path(knowledge_dir).resolve()))
    except ValueError:
        return str(path)


def kept_serving(version: str | None) -> str:
    """What the bot answers from after a failed build."""
    if not version:
        return "Chưa có bản nào được xuất bản: trợ lý chưa trả lời được theo kho tri thức."
    when = published_at(version)
    since = f" (xuất bản lúc {when})" if when else ""
    return f"Người dân không thấy thay đổi này: trợ lý vẫn dùng bản trước{since} cho đến khi sửa xong lỗi."


def published_at(version: str | None) -> str:
    """When a version was published, from its name (versions/<UTC stamp>-<hash>), Vietnam time; "" if unknown."""
    found = _VERSION_STAMP.match(version or "")
    if found is None:
        return ""
    stamp = dt.datetime.strptime(found.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=dt.timezone.utc)
    return show_time(stamp.isoformat())

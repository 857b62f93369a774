"""The console's index builds: knowledge/index/worker.py on the console's knowledge folder and index.

A staff change publishes the knowledge in the background, in the console's own process, which keeps the encoder and
what every build reads between builds (warmed up when the console starts), so the change is live within seconds.
Each request is written down (console.db.index_builds) with when it was asked and when its index was published, so
questions the bot left unanswered in between are not taken for new gaps (console/gaps.py).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import sqlalchemy as sa

from console.config import Settings
from console.db import engine, index_builds
from knowledge.index.worker import BuildRun, IndexBuilder, Ticket, now

__all__ = ["BuildRun", "Builder"]


class Builder(IndexBuilder):
    def __init__(self, settings: Settings) -> None:
        super().__init__(settings.knowledge_dir, settings.index_dir)
        self.settings = settings
        self.warming: threading.Thread | None = None

    def request(self, reason: str, changes: Sequence[str] = ()) -> Ticket:
        """Publish now; `reason` says who asked for what and `changes` what citizens will be told anew, both in
        staff's words (the publish page shows them)."""
        db = engine(self.settings.db_url)
        with db.begin() as con:
            inserted = con.execute(index_builds.insert().values(reason=reason, requested=now())).inserted_primary_key
        row = int(inserted[0]) if inserted else 0
        ticket = super().request(reason, changes)
        ticket.then(lambda run: _finished(db, row, run))
        return ticket

    def warm_up_in_background(self) -> threading.Thread:
        """Load the encoder and read the knowledge once now, so the first edit of the day is as quick as the next."""
        from knowledge.index.build import warm_up

        thread = threading.Thread(target=warm_up, args=(self.index_dir, self.knowledge_dir), name="index-warm-up",
                                  daemon=True)  # fmt: skip
        thread.start()
        self.warming = thread
        return thread


def _finished(db: sa.Engine, row: int, run: BuildRun) -> None:
    with db.begin() as con:
        con.execute(index_builds.update().where(index_builds.c.id == row).values(finished=run.finished,
                                                                                 status=run.status))  # fmt: skip


def status(builder: IndexBuilder) -> dict[str, object]:
    """What the console's progress line shows (GET /publish/status), in Vietnamese."""
    run, last = builder.current, builder.history[0] if builder.history else None
    warming = getattr(builder, "warming", None)
    body: dict[str, object] = {"running": builder.running, "version": builder.index_version,
                               "warm": warming is None or not warming.is_alive()}  # fmt: skip
    if builder.running:
        step = run.step if run is not None and run.step else "Chuẩn bị"
        queued = len(builder.queued)
        more = f" (còn {queued} thay đổi chờ xuất bản tiếp)" if queued else ""
        body.update(state="running", step=step, text=f"Đang xuất bản thay đổi: {step}…{more}")
    elif last is not None and last.status == "ok":
        how = "đã xuất bản" if last.published else "không có gì mới để xuất bản"
        took = in_seconds(last.seconds)
        body.update(state="ok", finished=last.finished, seconds=round(last.seconds, 1),
                    text=f"Xong: {how} sau {took}. Trợ lý dùng chỉ mục mới sau vài giây.")  # fmt: skip
    elif last is not None:
        failed = "Lần xuất bản gần nhất bị lỗi — chỉ mục cũ vẫn đang phục vụ. Xem chi tiết ở trang Xuất bản."
        body.update(state="failed", finished=last.finished, text=failed)
    else:
        body.update(state="idle", text="")
    return body


def in_seconds(seconds: float) -> str:
    """«1,3 giây»: a duration as staff read it, with the Vietnamese decimal comma."""
    return f"{seconds:.1f}".replace(".", ",") + " giây"

"""A handoff's state and its steps, one implementation for the Telegram staff group and the staff console.

The state is one row of the bridge's store (bot.store `bot_handoffs`): open or closed, and who took it. The bridge
reads it at each citizen message; the console reads and changes it directly in the same database (MOCUA_BOT_DB_URL,
or the SQLite file MOCUA_BOT_DB), so both views always agree and any number of bridge replicas see the same thing.
What the console has to say — to the citizen, and to the staff group so the group sees the console's work — goes
through the store's outbox, written in the same transaction as the step, and any bridge replica delivers it
(`Outbox`). These functions are synchronous and short: the console calls them in a worker thread, the bridge
through `Store.run`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import sqlalchemy as sa

from bot.store import Store, Turn, handoffs, history, outbox
from knowledge.text import mask_personal_numbers
from settings import wording

TO_CITIZEN_PREFIX = wording.text("handoff.to_citizen_prefix")
GROUP_SUFFIX = " (nhóm Telegram)"  # after the name of a staff group member who took a handoff there
# What the citizen is told at each step ({officer}: the staff member's name), from wording.yml's `handoff` section.
CITIZEN_CLAIMED = wording.text("handoff.citizen_claimed")
CITIZEN_RELEASED = wording.text("handoff.citizen_released")
CITIZEN_BACK_TO_BOT = wording.text("handoff.citizen_back_to_bot")
# What the staff group is told about work done in the console (it ends with the citizen, as every staff message).
STAFF_CLAIMED = "✋ {officer} đã nhận yêu cầu trên bảng điều khiển — chat {chat_id}"
STAFF_REPLIED = "💬 {officer} trả lời từ bảng điều khiển — chat {chat_id}:\n{text}"
STAFF_RELEASED = "↩️ {officer} đã trả lại yêu cầu, đang chờ cán bộ khác nhận — chat {chat_id}"
STAFF_DONE = "✅ {officer} đã kết thúc hỗ trợ trên bảng điều khiển, công dân được trả về trợ lý — chat {chat_id}"


class NotOpen(ValueError):
    """The handoff is closed (or never was): the citizen is with the bot again."""


class TakenByAnother(ValueError):
    """Another officer took the handoff."""

    def __init__(self, officer: str) -> None:
        super().__init__(officer)
        self.officer = officer


@dataclass(frozen=True)
class HandoffState:
    chat_id: int
    since: float
    question: str
    claimed_by: str | None
    claimed_at: float | None
    closed_at: float | None
    closed_by: str | None

    @property
    def open(self) -> bool:
        return self.closed_at is None


@dataclass(frozen=True)
class Outgoing:
    id: int
    chat_id: int
    to_citizen: str | None
    to_staff: str | None


def officer_name(username: str) -> str:
    """How a console account is named to citizens and to the group ("lan" → "Lan")."""
    return username[:1].upper() + username[1:]


# ---------------------------------------------------------------- reading


def _state(row: sa.Row) -> HandoffState:
    return HandoffState(int(row.chat_id), float(row.since), row.question or "", row.claimed_by, row.claimed_at,
                        row.closed_at, row.closed_by)  # fmt: skip


def state(store: Store, chat_id: int) -> HandoffState | None:
    with store._begin() as con:
        row = con.execute(sa.select(handoffs).where(handoffs.c.chat_id == chat_id)).first()
    return _state(row) if row is not None else None


def listed(store: Store, closed_since: float | None = None) -> list[HandoffState]:
    """Open handoffs, oldest first, then those closed since `closed_since` (latest first)."""
    shown: sa.ColumnElement[bool] = handoffs.c.closed_at.is_(None)
    if closed_since is not None:
        shown = sa.or_(shown, handoffs.c.closed_at >= closed_since)
    with store._begin() as con:
        rows = con.execute(sa.select(handoffs).where(shown).order_by(handoffs.c.since)).all()
    found = [_state(row) for row in rows]
    return [h for h in found if h.open] + sorted((h for h in found if not h.open), key=lambda h: -(h.closed_at or 0))


def recent_turns(store: Store, chat_ids: list[int], turns: int = 8) -> dict[int, list[Turn]]:
    """The last turns of each chat (stored masked), oldest first."""
    found: dict[int, list[Turn]] = {chat_id: [] for chat_id in chat_ids}
    if not chat_ids:
        return found
    query = (sa.select(history.c.chat_id, history.c.who, history.c.text).where(history.c.chat_id.in_(chat_ids))
             .order_by(history.c.id))  # fmt: skip
    with store._begin() as con:
        for row in con.execute(query):
            found[int(row.chat_id)].append(Turn(row.who, row.text))
    return {chat_id: kept[-turns:] for chat_id, kept in found.items()}


# ---------------------------------------------------------------- steps


def _open_row(con: sa.Connection, chat_id: int) -> sa.Row:
    row = con.execute(sa.select(handoffs).where(handoffs.c.chat_id == chat_id)).first()
    if row is None or row.closed_at is not None:
        raise NotOpen(str(chat_id))
    return row


def _queue(con: sa.Connection, chat_id: int, to_citizen: str | None, to_staff: str | None) -> None:
    con.execute(outbox.insert().values(chat_id=chat_id, to_citizen=to_citizen, to_staff=to_staff and
                                       mask_personal_numbers(to_staff), created=time.time()))  # fmt: skip


def _take(con: sa.Connection, chat_id: int, officer: str) -> bool:
    """Take an open, unclaimed handoff; True when this call took it (the UPDATE re-checks on the row it locks)."""
    taken = con.execute(handoffs.update()
                        .where(handoffs.c.chat_id == chat_id, handoffs.c.closed_at.is_(None),
                               handoffs.c.claimed_by.is_(None))
                        .values(claimed_by=officer, claimed_at=time.time()))  # fmt: skip
    return bool(taken.rowcount)


def claim(store: Store, chat_id: int, officer: str) -> None:
    """An officer takes the handoff in the console; the citizen and the group are told."""
    with store._begin() as con:
        row = _open_row(con, chat_id)
        if row.claimed_by == officer:
            return
        if not _take(con, chat_id, officer):
            raise TakenByAnother(str(_open_row(con, chat_id).claimed_by))
        name = officer_name(officer)
        _queue(con, chat_id, CITIZEN_CLAIMED.format(officer=name), STAFF_CLAIMED.format(officer=name, chat_id=chat_id))


def reply(store: Store, chat_id: int, officer: str, text: str) -> None:
    """The officer's words to the citizen, delivered by the bridge; a reply also takes an unclaimed handoff."""
    with store._begin() as con:
        row = _open_row(con, chat_id)
        if row.claimed_by not in (None, officer):
            raise TakenByAnother(str(row.claimed_by))
        _take(con, chat_id, officer)
        name = officer_name(officer)
        _queue(con, chat_id, TO_CITIZEN_PREFIX + text, STAFF_REPLIED.format(officer=name, chat_id=chat_id, text=text))
    store.add_turn(chat_id, "staff", text)


def release(store: Store, chat_id: int, officer: str) -> None:
    """The officer gives the handoff back to the queue; the citizen keeps waiting for a person."""
    with store._begin() as con:
        row = _open_row(con, chat_id)
        if row.claimed_by != officer:
            raise TakenByAnother(str(row.claimed_by or ""))
        con.execute(handoffs.update().where(handoffs.c.chat_id == chat_id).values(claimed_by=None, claimed_at=None))
        name = officer_name(officer)
        _queue(con, chat_id, CITIZEN_RELEASED.format(officer=name),
               STAFF_RELEASED.format(officer=name, chat_id=chat_id))  # fmt: skip


def finish(store: Store, chat_id: int, officer: str) -> None:
    """The officer ends the talk with a person: the citizen is with the bot again, and told so."""
    with store._begin() as con:
        row = _open_row(con, chat_id)
        if row.claimed_by not in (None, officer):
            raise TakenByAnother(str(row.claimed_by))
        con.execute(handoffs.update().where(handoffs.c.chat_id == chat_id)
                    .values(closed_at=time.time(), closed_by=officer, claimed_by=row.claimed_by or officer,
                            claimed_at=row.claimed_at or time.time()))  # fmt: skip
        _queue(con, chat_id, CITIZEN_BACK_TO_BOT, STAFF_DONE.format(officer=officer_name(officer), chat_id=chat_id))


def claim_for_group_reply(store: Store, chat_id: int, member: str) -> None:
    """A staff group member's reply: the handoff is (re)opened, and taken by that member unless someone has it."""
    store.start_handoff(chat_id)
    with store._begin() as con:
        _take(con, chat_id, member)


# ---------------------------------------------------------------- the outbox, for the bridge


def chats_with_outgoing(store: Store, now: float | None = None) -> list[int]:
    """The chats with console messages nobody delivers yet (or whose replica's lease ran out), oldest first."""
    now = time.time() if now is None else now
    query = (sa.select(outbox.c.chat_id, sa.func.min(outbox.c.id).label("first")).where(_claimable(now))
             .group_by(outbox.c.chat_id).order_by("first"))  # fmt: skip
    with store._begin() as con:
        return [int(row.chat_id) for row in con.execute(query)]


def take_outgoing(store: Store, chat_id: int, now: float | None = None) -> list[Outgoing]:
    """The chat's console messages nobody delivers yet, now this replica's, in the order written. The bridge calls it
    in the chat's turn (held across replicas), so a chat's messages go out one replica at a time, in order; the UPDATE
    re-checks the condition on each row it locks, so no row is taken twice."""
    now = time.time() if now is None else now
    take = (outbox.update().where(outbox.c.chat_id == chat_id, _claimable(now))
            .values(owner=store.owner, lease_until=now + store.lease)
            .returning(outbox.c.id, outbox.c.chat_id, outbox.c.to_citizen, outbox.c.to_staff))  # fmt: skip
    with store._begin() as con:
        rows = con.execute(take).all()
    return sorted((Outgoing(int(r.id), int(r.chat_id), r.to_citizen, r.to_staff) for r in rows), key=lambda o: o.id)


def _claimable(now: float) -> sa.ColumnElement[bool]:
    return sa.or_(outbox.c.owner.is_(None), outbox.c.lease_until < now)


def delivered(store: Store, outgoing_id: int) -> None:
    with store._begin() as con:
        con.execute(outbox.delete().where(outbox.c.id == outgoing_id))

"""Rasa's Redis lock store, with its ticket book changed atomically.

Rasa orders the messages of one conversation with a ticket lock kept in Redis: take a ticket, wait until it is
served, process, hand the ticket back. Rasa's RedisLockStore reads the ticket book, changes it in Python and
writes it back, with nothing stopping two replicas from doing so at the same moment; when two messages of a new
conversation reach two replicas together, both can draw ticket 0 and both process at once, each answering from a
conversation without the other's turn (Rasa's own SQL tracker store then even kept only one of the two turns; ours,
channels/tracker_store.py, keeps both: tests/production/test_topology.py shows it). This subclass makes
every change of the book a critical section under a short Redis mutex; waiting for one's turn and processing the
message stay exactly as in Rasa.

endpoints.production.yml: lock_store: {type: channels.lock_store.AtomicRedisLockStore, url: …, port: …}
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

MUTEX_TIMEOUT = 5.0  # seconds a crashed replica can hold the book before Redis frees it


class AtomicRedisLockStore(RedisLockStore):
    def __init__(self, endpoint_config: EndpointConfig) -> None:
        # Rasa builds a custom lock store from its endpoint config alone; the settings are RedisLockStore's.
        super().__init__(host=endpoint_config.url or "localhost", **endpoint_config.kwargs)

    @contextmanager
    def _book(self, conversation_id: str) -> Iterator[None]:
        """Exclusive use of one conversation's ticket book, across every replica."""
        mutex = self.red.lock(
            f"{self.key_prefix}{conversation_id}:book", timeout=MUTEX_TIMEOUT, blocking_timeout=MUTEX_TIMEOUT
        )
        if not mutex.acquire():
            raise LockError(f"Could not change the ticket book of conversation '{conversation_id}'.")
        try:
            yield
        finally:
            mutex.release()

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        with self._book(conversation_id):
            return super().issue_ticket(conversation_id, lock_lifetime)

    def update_lock(self, conversation_id: str) -> None:
        with self._book(conversation_id):
            super().update_lock(conversation_id)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        with self._book(conversation_id):
            super().finish_serving(conversation_id, ticket_number)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        # Hand the ticket back and drop an empty book in one step: otherwise a ticket issued in between is deleted.
        with self._book(conversation_id):
            lock: TicketLock | None = self.get_lock(conversation_id)
            if lock is None:
                return
            lock.remove_ticket_for(ticket_number)
            if lock.is_someone_waiting():
                self.save_lock(lock)
            else:
                self.delete_lock(conversation_id)

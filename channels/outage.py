"""Custom-action failures during a channel message become an outage instead of a silent empty answer.

Rasa 3.6 catches any exception of a custom action, logs it, records the action as run and answers 200 with
nothing: the citizen is asked to rephrase, and a "gặp cán bộ" is recorded as done although nobody was told. While
the REST channel handles a message, a failing call to the action server instead raises ActionServerFailed, a
BaseException so that the processor's `except Exception` lets it through: the turn is not saved to the tracker
(MessageProcessor.handle_message saves only after the whole prediction loop) and the channel answers 503, which
clients retry. Outside the channel (rasa test, the HTTP API) Rasa behaves as before.
"""

from __future__ import annotations

import functools
from contextvars import ContextVar
from typing import Any

from rasa.core.actions.action import ActionExecutionRejection, RemoteAction

# Set by the channel for the duration of one message; contextvars follow the awaits of that request only.
_STRICT: ContextVar[bool] = ContextVar("mocua_strict_actions", default=False)


class ActionServerFailed(BaseException):  # noqa: N818 - named for what happened, like KeyboardInterrupt
    """A custom action could not run (action server down, unreachable, refusing or failing)."""

    def __init__(self, action: str) -> None:
        super().__init__(f"custom action {action!r} failed")
        self.action = action


def strict_actions() -> Any:
    """Context: custom-action failures raise ActionServerFailed. Returns the token for `end_strict`."""
    return _STRICT.set(True)


def end_strict(token: Any) -> None:
    _STRICT.reset(token)


def install() -> None:
    """Wrap RemoteAction.run once (idempotent: Rasa may import the channel module more than once)."""
    original = RemoteAction.run
    if getattr(original, "_mocua_strict", False):
        return

    @functools.wraps(original)
    async def run(self: RemoteAction, *args: Any, **kwargs: Any) -> Any:
        try:
            return await original(self, *args, **kwargs)
        except ActionExecutionRejection:
            raise  # an ordinary outcome (a form rejecting its slot), handled by Rasa
        except Exception as error:
            if _STRICT.get():
                raise ActionServerFailed(self.name()) from error
            raise

    run._mocua_strict = True  # type: ignore[attr-defined]
    RemoteAction.run = run  # rasa ships no type information: nothing for mypy to check here

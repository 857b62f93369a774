"""Staff changes made through the console's HTTP forms, as the browser sends them (the live-edit test and the edit
benchmark, tests/benchmarks/bench_edits.py): an alias attached from the unanswered questions, a record field saved
in the editor (confirmed), the latest change reverted from the audit log; then the publish status polled."""

from __future__ import annotations

import html
import json
import re
import time
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx

from knowledge.index.published import current_version

Fields = list[tuple[str, str]]


class _FormFields(HTMLParser):
    """The fields a browser would send for one form (by its id): inputs, checked boxes, textareas, selects."""

    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id, self.inside, self.fields = form_id, False, []  # type: ignore[var-annotated]
        self._area: str | None = None
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = found.get("id") == self.form_id
        if not self.inside:
            return
        if tag == "input" and found.get("name") and found.get("type") not in ("submit", "button"):
            if found.get("type") not in ("checkbox", "radio") or "checked" in found:
                self.fields.append((found["name"], found.get("value", "")))
        elif tag == "textarea":
            self._area, self._text = found.get("name"), []
        elif tag == "select":
            self._select, self._options = found.get("name"), []
        elif tag == "option" and self._select:
            self._options.append((found.get("value", ""), "selected" in found))

    def handle_data(self, data: str) -> None:
        if self._area is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "textarea" and self._area is not None:
            text = "".join(self._text)
            self.fields.append((self._area, text[1:] if text.startswith("\n") else text))
            self._area = None
        elif tag == "select" and self._select is not None:
            chosen = [v for v, selected in self._options if selected] or [v for v, _ in self._options[:1]]
            self.fields.extend((self._select, v) for v in chosen)
            self._select = None


def form_fields(page: str, form_id: str) -> Fields:
    reader = _FormFields(form_id)
    reader.feed(page)
    return reader.fields


def as_form(fields: Fields) -> dict[str, list[str]]:
    """Fields as httpx sends them: each name once, with its values in order (checkboxes give several)."""
    form: dict[str, list[str]] = {}
    for name, value in fields:
        form.setdefault(name, []).append(value)
    return form


def csrf(client: httpx.Client, path: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def save_record(client: httpx.Client, record_id: str, changes: dict[str, str]) -> None:
    """Change fields in the record editor and save, confirming what citizens will be told."""
    fields = [(name, changes.get(name, value)) for name, value in form_fields(client.get(f"/records/{record_id}").text,
                                                                              "record-form")]  # fmt: skip
    answer = client.post(f"/records/{record_id}", data=as_form([*fields, ("action", "save")]))
    if answer.status_code == 200:  # asked to confirm: the same form again, with what was shown to confirm
        confirmed = re.search(r'name="confirmed" value="([^"]*)"', answer.text)
        assert confirmed, answer.text[:2000]
        confirming = [*fields, ("action", "confirm"), ("confirmed", html.unescape(confirmed.group(1)))]
        answer = client.post(f"/records/{record_id}", data=as_form(confirming))
    assert answer.status_code == 303, answer.text[:2000]


def attach_alias(client: httpx.Client, wording: str, record_id: str) -> None:
    """Attach the unanswered group showing `wording` to a curated record, as one more name of it."""
    page = client.get("/unanswered").text
    at = page.find(html.escape(wording, quote=False))
    assert at >= 0, f"«{wording}» is not among the unanswered questions"
    group = re.compile(r'name="group" value="([^"]+)"').search(page, at)
    assert group, "no attach form after the group"
    form = {"csrf": csrf(client, "/unanswered"), "group": group.group(1), "wording": wording,
            "procedure": record_id, "as": "alias"}  # fmt: skip
    answer = client.post("/unanswered/attach", data=form)
    assert answer.status_code == 303, answer.text[:2000]


def revert_latest(client: httpx.Client, target: str) -> None:
    """Revert the latest change that can still be reverted whose row says `target` (a record's name), confirming it."""
    page = client.get("/audit").text
    for row in page.split('<tr id="audit-')[1:]:
        entry_id = row.split('"', 1)[0]
        if target in row and "revert" in row and 'name="csrf"' in row:
            token = row.split('name="csrf" value="', 1)[1].split('"', 1)[0]
            answer = client.post(f"/audit/{entry_id}/revert", data={"csrf": token, "confirmed": "yes"})
            assert answer.status_code == 303, answer.text[:2000]
            return
    raise AssertionError(f"no change to revert naming {target}")


def wait_published(client: httpx.Client, timeout: float = 300.0) -> dict:
    """Poll the console's progress line (GET /publish/status) until the change is published; its last state."""
    deadline = time.monotonic() + timeout
    while True:
        status = client.get("/publish/status").json()
        if not status["running"]:
            return status
        assert time.monotonic() < deadline, f"still publishing after {timeout:.0f} s: {status}"
        time.sleep(0.1)


def wait_served(stack: Any, index_dir: Path, timeout: float = 120.0) -> None:
    """Until the action server serves the version published in index_dir (its /admin/stats), so the next test
    meets the knowledge as it is now, not the version before a cleanup."""
    deadline = time.monotonic() + timeout
    while True:
        published = current_version(index_dir)
        token = {"Authorization": f"Bearer {stack.secrets['ADMIN_API_TOKEN']}"}
        request = urllib.request.Request(f"{stack.action_url}/admin/stats", headers=token)
        with urllib.request.urlopen(request, timeout=30) as response:
            if published is not None and json.load(response)["index_version"] == published.name:
                return
        assert time.monotonic() < deadline, f"the action server still serves an older version than {published}"
        time.sleep(0.2)

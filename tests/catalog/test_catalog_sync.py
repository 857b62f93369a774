"""`make kb-sync-catalog` against a replay of the portal's API: politeness, failures, resuming, the change report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowledge.catalog.model import Fee, OfficialRecord
from knowledge.catalog.snapshot import load_snapshot, snapshot_bytes, write_snapshot
from knowledge.tools.catalog import sync
from knowledge.tools.catalog.changes import fee_text
from knowledge.tools.catalog.parse_api import parse_detail
from knowledge.tools.catalog.sync import DETAIL_PATH, LIST_PATH, Client, NotJson, State
from tests.catalog.replay_portal import FIXTURES, FakeTime, ReplayPortal

LISTED = sorted(row["code"] for row in json.loads((FIXTURES / "listing.json").read_text("utf-8")))


def fixture_record(code: str) -> OfficialRecord:
    answer = json.loads((FIXTURES / "details" / f"{code}.json").read_text("utf-8"))
    return parse_detail(answer, "2026-07-18")


def old_snapshot(tmp_path: Path, records: list[OfficialRecord] | None = None) -> Path:
    path = tmp_path / "catalog.jsonl.gz"
    write_snapshot(records if records is not None else [fixture_record(code) for code in LISTED], path)
    return path


def run(client: Client, tmp_path: Path, snapshot: Path, **kwargs: object) -> sync.SyncResult:
    return sync.sync(client, State(tmp_path / "state"), snapshot, page_size=4, today="2026-11-27", **kwargs)


# ------------------------------------------------------------------------------------------------- client


def test_requests_are_spaced_by_the_interval(portal: ReplayPortal, client: Client, fake_time: FakeTime) -> None:
    for _ in range(3):
        client.post(LIST_PATH, {"limit": 2, "lastId": ""})
    assert fake_time.sleeps == [1.0, 1.0]  # no wait before the first request, one interval before each other


def test_firewall_html_with_status_200_is_a_failure_and_retried(portal: ReplayPortal, client: Client,
                                                              fake_time: FakeTime) -> None:  # fmt: skip
    portal.script("1.001193", "html", "html")
    uuid = next(row["id"] for row in portal.listing if row["code"] == "1.001193")
    answer = client.post(DETAIL_PATH, {"id": uuid})
    assert answer["data"]["code"] == "1.001193"
    assert [entry.status for entry in portal.requests_for("1.001193")] == [200, 200, 200]
    assert fake_time.sleeps == [2.0, 4.0]  # backoff doubles (each wait also covers the 1 s interval)


def test_a_firewall_that_never_relents_raises_not_json(portal: ReplayPortal, client: Client) -> None:
    portal.script("list", *["html"] * 4)
    with pytest.raises(NotJson, match="not JSON"):
        client.post(LIST_PATH, {"limit": 2, "lastId": ""})
    assert len(portal.requests_for("list")) == 4  # the first try and three retries, then it gives up


def test_server_errors_are_retried_and_client_errors_are_not(portal: ReplayPortal, client: Client) -> None:
    portal.script("list", "503", "500")
    assert client.post(LIST_PATH, {"limit": 2, "lastId": ""})["code"] == "OK"
    with pytest.raises(sync.PortalError, match="HTTP 404"):
        client.post("/api/v1/unknown", {})
    assert len(portal.log) == 4


# --------------------------------------------------------------------------------------------------- runs


def test_a_full_run_survives_the_firewall_and_a_5xx(portal: ReplayPortal, client: Client, tmp_path: Path) -> None:
    portal.script("list", "503")
    portal.script("1.010038", "html")  # firewall page once
    portal.script("2.000635", "502")  # a server error once
    result = run(client, tmp_path, old_snapshot(tmp_path))
    assert result.complete and not result.failed and result.aborted is None
    assert result.listed == len(LISTED) and result.fetched == len(LISTED)
    assert len(portal.requests_for("1.010038")) == 2 and len(portal.requests_for("2.000635")) == 2
    candidate = load_snapshot(tmp_path / "state" / "candidate.jsonl.gz")
    assert sorted(r.code for r in candidate) == LISTED
    assert {r.source for r in candidate} == {"portal-api"} and {r.crawled for r in candidate} == {"2026-11-27"}
    assert result.changes is not None and not result.changes.changes  # same answers as the snapshot's


def test_a_procedure_the_firewall_keeps_blocking_is_reported_and_keeps_its_old_record(
    portal: ReplayPortal, client: Client, tmp_path: Path
) -> None:
    portal.script("1.000578", *["html"] * 4)
    old = [fixture_record(code) for code in LISTED]
    result = run(client, tmp_path, old_snapshot(tmp_path, old))
    assert result.complete and list(result.failed) == ["1.000578"]
    assert "not JSON" in result.failed["1.000578"]
    candidate = {r.code: r for r in load_snapshot(tmp_path / "state" / "candidate.jsonl.gz")}
    assert candidate["1.000578"].source == "opengov-api-2026"  # the previous record, not refreshed
    assert "failed 1.000578" in result.changes.text()


def test_an_interrupted_run_resumes_where_it_stopped(portal: ReplayPortal, client: Client, tmp_path: Path) -> None:
    snapshot = old_snapshot(tmp_path)
    portal.down_from = 6  # listing pages 1–3 pass, then the portal goes down in the middle of the details
    first = run(client, tmp_path, snapshot)
    assert first.aborted and not first.complete and first.changes is None
    fetched_before = {entry.key for entry in portal.log if entry.path == DETAIL_PATH and entry.status == 200}
    assert fetched_before and len(fetched_before) < len(LISTED)
    assert not (tmp_path / "state" / "candidate.jsonl.gz").exists()

    portal.down_from = None
    portal.log.clear()
    second = run(client, tmp_path, snapshot)
    assert second.complete and not second.failed
    assert not [entry for entry in portal.log if entry.path == LIST_PATH]  # the listing was already whole
    refetched = {entry.key for entry in portal.log if entry.path == DETAIL_PATH}
    assert refetched == set(LISTED) - fetched_before  # nothing asked twice
    assert second.stored == len(LISTED)


def test_an_interrupted_listing_resumes_from_the_last_page(portal: ReplayPortal, client: Client,
                                                          tmp_path: Path) -> None:  # fmt: skip
    portal.down_from = 2  # the first listing page passes, the second meets an outage
    first = run(client, tmp_path, old_snapshot(tmp_path))
    assert first.aborted and "listing" in first.aborted
    first_page_last_id = portal.listing[3]["id"]  # pages hold 4 procedures
    portal.down_from = None
    portal.log.clear()
    second = run(client, tmp_path, old_snapshot(tmp_path))
    assert second.complete
    assert portal.requests_for("list")[0].body["lastId"] == first_page_last_id
    assert second.listed == len(LISTED)


# ------------------------------------------------------------------------------------------ change report


def test_change_report_shows_new_withdrawn_and_changed_values(portal: ReplayPortal, client: Client,
                                                              tmp_path: Path) -> None:  # fmt: skip
    current = {code: fixture_record(code) for code in LISTED}
    # What the shipped snapshot said before the portal changed: a different fee and agency for 1.010038,
    # a procedure since withdrawn, no 1.115403 yet, and a 2024-only record that was never listed.
    before = current["1.010038"]
    direct = before.channel("trực tiếp")
    assert direct is not None
    old_fee = Fee(kind="amount", amount_vnd=12000, currency="VND")
    changed = before.model_copy(update={
        "agency": "Công an cấp huyện",
        "channels": [c.model_copy(update={"fees": [old_fee]}) if c.method == "trực tiếp" else c
                     for c in before.channels],
    })  # fmt: skip
    withdrawn = current["1.000578"].model_copy(update={"code": "1.000579", "name": "Thủ tục đã bãi bỏ"})
    old_2024 = current["1.000797"].model_copy(update={"code": "1.000001", "source": "rag4publicsector-2024",
                                                      "crawled": "2024", "predates_2025_reform": True})  # fmt: skip
    old = [r for code, r in current.items() if code not in ("1.010038", "1.115403")]
    snapshot = old_snapshot(tmp_path, [*old, changed, withdrawn, old_2024])

    result = run(client, tmp_path, snapshot)
    report = result.changes
    assert report is not None
    assert [r.code for r in report.new] == ["1.115403"]
    assert [r.code for r in report.withdrawn] == ["1.000579"]
    fees = report.of("fee")
    assert [(c.code, c.where, c.old, c.new) for c in fees] == [
        ("1.010038", "trực tiếp", "12.000 đ", f"{fee_text(direct.fees[0])}; {fee_text(direct.fees[1])}")
    ]
    assert [(c.code, c.old, c.new) for c in report.of("agency")] == [
        ("1.010038", "Công an cấp huyện", current["1.010038"].agency)
    ]
    text = (tmp_path / "state" / "changes.txt").read_text("utf-8")
    assert "+ 1.115403" in text and "- 1.000579 Thủ tục đã bãi bỏ" in text
    assert "1.010038" in text and "trực tiếp: 12.000 đ → 10.000 đ" in text
    candidate = {r.code for r in load_snapshot(tmp_path / "state" / "candidate.jsonl.gz")}
    assert "1.000001" in candidate and "1.000579" not in candidate  # 2024 kept, withdrawn dropped


def test_apply_publishes_the_reviewed_candidate_and_starts_afresh(portal: ReplayPortal, client: Client,
                                                                 tmp_path: Path) -> None:  # fmt: skip
    snapshot = old_snapshot(tmp_path, [fixture_record("1.001193")])
    run(client, tmp_path, snapshot)
    assert len(load_snapshot(snapshot)) == 1  # nothing published before the review
    candidate = (tmp_path / "state" / "candidate.jsonl.gz").read_bytes()
    assert sync.apply(State(tmp_path / "state"), snapshot) == 0
    assert snapshot.read_bytes() == candidate == snapshot_bytes(load_snapshot(snapshot))
    assert not (tmp_path / "state" / "state.json").exists()


def test_command_line_uses_the_configured_portal_url(portal: ReplayPortal, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    monkeypatch.setenv("MOCUA_PORTAL_URL", portal.url)
    snapshot = old_snapshot(tmp_path)
    args = ["--state", str(tmp_path / "state"), "--snapshot", str(snapshot), "--interval", "0"]
    assert sync.main(args) == 0
    out = capsys.readouterr().out
    assert portal.url in out and "New procedures (0)" in out and "ARGS=--apply" in out
    assert sync.main([*args, "--apply"]) == 0


def test_a_listing_far_shorter_than_the_snapshot_builds_no_candidate(portal: ReplayPortal, client: Client,
                                                                     tmp_path: Path) -> None:  # fmt: skip
    base = fixture_record("1.001193")
    many = [base.model_copy(update={"code": f"1.{900000 + n}"}) for n in range(30)]
    result = run(client, tmp_path, old_snapshot(tmp_path, many))
    assert result.aborted and "listed 10" in result.aborted and result.changes is None
    assert not (tmp_path / "state" / "candidate.jsonl.gz").exists()

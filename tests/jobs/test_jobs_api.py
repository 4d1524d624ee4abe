"""Jobs through the HTTP API: flows, output, locks, cancel, the stream."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ADMIN
from tests.jobwait import wait_for_job, wait_for_line

VAULT = ADMIN["vault_password"]


def _deploy(client: TestClient, name: str) -> int:
    answer = client.post(f"/api/services/{name}/deploy", json={})
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "queued"
    job_id: int = answer.json()["job_id"]
    return job_id


def test_script_deploy_runs_masks_and_records(admin_client: TestClient) -> None:
    job = wait_for_job(admin_client, _deploy(admin_client, "hello"))
    assert job["status"] == "completed", job
    assert job["deployment_id"] == "dep-42"
    assert job["action"] == "deploy" and job["service"] == "hello"
    assert job["output"][0].startswith("$ bash ")
    assert "vault says: ********" in job["output"]
    assert [s["name"] for s in job["steps"]] == ["deploy.sh"]
    assert job["steps"][0]["exit_code"] == 0
    assert job["started_at"] and job["finished_at"]
    every_answer = admin_client.get(f"/api/jobs/{job['id']}/output?limit=1000").text
    assert VAULT not in every_answer and VAULT not in str(job)


def test_failing_step_fails_the_job(admin_client: TestClient) -> None:
    job = wait_for_job(admin_client, _deploy(admin_client, "failing"))
    assert job["status"] == "failed"
    assert job["exit_code"] == 3
    assert "exited with 3" in job["error"]
    assert job["steps"][0]["status"] == "failed"


@pytest.mark.ansible
def test_standard_deploy_runs_the_four_steps(admin_client: TestClient, lab_dir: Path) -> None:
    job = wait_for_job(admin_client, _deploy(admin_client, "local"))
    assert job["status"] == "completed", job["output"][-30:]
    assert [s["name"] for s in job["steps"]] == [
        "start-instances",
        "wait-for-hosts",
        "docker-base",
        "local",
    ]
    first = job["steps"][0]["command"]
    assert '"instances_file":' in first and str(lab_dir / "services/local/instance.yaml") in first
    assert "--vault-password-file" in first
    statuses = {(h["task"], h["status"]) for h in job["hosts"] if h["step"] == 4}
    assert ("Works", "changed") in statuses and ("Skipped", "skipped") in statuses
    recap = [r for r in job["recap"] if r["step"] == 4]
    assert recap and recap[0]["host"] == "localOne" and recap[0]["changed"] == 1


@pytest.mark.ansible
def test_failed_task_is_reported_per_host(admin_client: TestClient) -> None:
    job = wait_for_job(admin_client, _deploy(admin_client, "broken"))
    assert job["status"] == "failed"
    failed = [h for h in job["hosts"] if h["status"] == "failed"]
    assert failed and failed[0]["task"] == "Breaks" and failed[0]["host"] == "brokenOne"
    assert "fails on purpose" in (failed[0]["message"] or "")


def test_hostile_output_is_stored_as_text(admin_client: TestClient) -> None:
    job = wait_for_job(admin_client, _deploy(admin_client, "evil"))
    assert job["status"] == "completed", job["error"]
    out = job["output"]
    assert "<script>alert(1)</script><img src=x onerror=alert(2)>" in out
    assert any(line.startswith("bad utf8: \ufffd\ufffd end") for line in out)
    long_lines = [line for line in out if line.startswith("xxxx")]
    assert len(long_lines) == 1 and len(long_lines[0]) < 70_000 and "cut" in long_lines[0]
    assert "no final newline" in out


def test_stream_cannot_be_forged_and_replays_ended_job(admin_client: TestClient) -> None:
    job_id = _deploy(admin_client, "evil")
    wait_for_job(admin_client, job_id)
    with admin_client.stream("GET", f"/api/jobs/{job_id}/stream") as answer:
        assert answer.headers["content-type"].startswith("text/event-stream")
        body = "".join(answer.iter_text())
    events = [block for block in body.split("\n\n") if block.strip()]
    assert events[-1] == "event: done\ndata: completed"
    # The forged fields of the output stay inside data fields.
    assert sum(1 for e in events if e.startswith("event: done")) == 1
    assert "data: before\ndata: data: forged\ndata: event: done" in body
    assert "\nid: 999" not in body.replace("data: id: 999", "")


def test_stream_resumes_after_last_event_id(admin_client: TestClient) -> None:
    job_id = _deploy(admin_client, "chatty")
    wait_for_job(admin_client, job_id)
    headers = {"Last-Event-ID": "19990"}
    with admin_client.stream("GET", f"/api/jobs/{job_id}/stream", headers=headers) as answer:
        body = "".join(answer.iter_text())
    ids = [int(line[4:]) for line in body.splitlines() if line.startswith("id: ")]
    assert ids[0] == 19991 and ids == list(range(19991, ids[-1] + 1))


def test_output_paging(admin_client: TestClient) -> None:
    job_id = _deploy(admin_client, "chatty")
    job = wait_for_job(admin_client, job_id)
    seen: list[int] = []
    after = 0
    while True:
        page = admin_client.get(f"/api/jobs/{job_id}/output?after={after}&limit=7000").json()
        seen += [line["seq"] for line in page["lines"]]
        if page["next"] is None:
            break
        after = page["next"]
    assert seen == list(range(1, job["line_count"] + 1))
    assert job["line_count"] >= 20_002  # the command, 20 000 lines, the closing note
    tail = admin_client.get(f"/api/jobs/{job_id}?tail=3").json()["output"]
    assert tail[0] == "19999" and tail[1] == "20000"


def test_one_active_job_per_service(admin_client: TestClient) -> None:
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(
            pool.map(lambda _: admin_client.post("/api/services/sleeper/deploy", json={}), range(6))
        )
    accepted = [a for a in answers if a.status_code == 200]
    refused = [a for a in answers if a.status_code == 409]
    assert len(accepted) == 1 and len(refused) == 5
    job_id = accepted[0].json()["job_id"]
    assert all(a.json()["job_id"] == job_id for a in refused)
    assert str(job_id) in refused[0].json()["detail"]
    # Stop of the same service and stop-all are refused too; another service is not.
    assert admin_client.post("/api/services/sleeper/stop", json={}).status_code == 409
    assert admin_client.post("/api/services/actions/stop-all", json={}).status_code == 409
    other = admin_client.post("/api/services/hello/deploy", json={})
    assert other.status_code == 200
    admin_client.post(f"/api/jobs/{job_id}/cancel", json={})
    wait_for_job(admin_client, job_id)
    wait_for_job(admin_client, other.json()["job_id"])


def test_cancel_ends_a_child_that_ignores_sigterm(
    admin_client: TestClient, settings: object
) -> None:
    job_id = _deploy(admin_client, "sleeper")
    wait_for_line(admin_client, job_id, "started")
    answer = admin_client.post(f"/api/jobs/{job_id}/cancel", json={})
    assert answer.status_code == 200
    job = wait_for_job(admin_client, job_id, timeout=60)
    assert job["status"] == "cancelled"
    assert "got TERM, ignoring" in job["output"]
    assert any("SIGKILL" in line and "Handlers" in line for line in job["output"])
    assert admin_client.post(f"/api/jobs/{job_id}/cancel", json={}).status_code == 409


def test_job_list_filters_and_pages(admin_client: TestClient) -> None:
    ids = [wait_for_job(admin_client, _deploy(admin_client, "hello"))["id"] for _ in range(3)]
    wait_for_job(admin_client, _deploy(admin_client, "failing"))
    listing = admin_client.get("/api/jobs?limit=2").json()
    assert len(listing["jobs"]) == 2 and listing["next_before"] is not None
    assert listing["jobs"][0]["id"] > listing["jobs"][1]["id"]
    assert "output" not in listing["jobs"][0]
    rest_page = admin_client.get(f"/api/jobs?before={listing['next_before']}&limit=2").json()
    rest = rest_page["jobs"]
    assert [j["id"] for j in rest] == sorted(ids[:2], reverse=True)
    # Exactly two older jobs: the second page is the last one, with no empty third page.
    assert rest_page["next_before"] is None
    failed = admin_client.get("/api/jobs?status=failed").json()["jobs"]
    assert [j["service"] for j in failed] == ["failing"]
    assert admin_client.get("/api/jobs?service=hello").json()["jobs"][0]["service"] == "hello"


def test_unknown_things_are_404_and_bad_ids_4xx(admin_client: TestClient) -> None:
    assert admin_client.post("/api/services/nope/deploy", json={}).status_code == 404
    assert admin_client.post("/api/services/docker-base/deploy", json={}).status_code == 404
    assert admin_client.get("/api/jobs/999999").status_code == 404
    for bad in ("abc", "-1", "1e5", "99999999999999999999999999"):
        code = admin_client.get(f"/api/jobs/{bad}").status_code
        assert code in (404, 422), bad
    assert admin_client.get("/api/jobs").json()["jobs"] == []


def test_refresh_and_destroy_update_the_cache(admin_client: TestClient) -> None:
    job = admin_client.post("/api/instances/refresh", json={}).json()
    assert wait_for_job(admin_client, job["job_id"])["status"] == "completed"
    instances = admin_client.get("/api/instances").json()
    assert [h["label"] for h in instances["hosts"]] == ["web1"]
    assert "hunter2-secret" not in str(instances)
    destroy = admin_client.post("/api/instances/stop", json={"label": "web1", "region": "mel"})
    assert wait_for_job(admin_client, destroy.json()["job_id"])["status"] == "completed"
    assert admin_client.get("/api/instances").json()["hosts"] == []


def test_destroy_validates_its_body(admin_client: TestClient) -> None:
    for body in (
        {"label": "../x", "region": "mel"},
        {"label": "a"},
        {"label": "-x", "region": "m"},
    ):
        assert admin_client.post("/api/instances/stop", json=body).status_code == 422
    assert admin_client.get("/api/jobs").json()["jobs"] == []


def test_jobs_need_a_session(client: TestClient) -> None:
    client.post("/api/auth/setup", json=ADMIN)
    anonymous = TestClient(client.app)
    assert anonymous.get("/api/jobs").status_code == 401
    assert anonymous.post("/api/services/hello/deploy", json={}).status_code == 401
    assert anonymous.get("/api/jobs/1/stream").status_code == 401

"""A throwaway stand-in for the API of SPEC section 5, for UI work before the
real server had services, jobs and instances. It serves the UI files the way
the real server does (GET / and /assets/...) with the same CSP.

Not used by the browser tests (they run the real server); run it by hand:
    .venv/bin/python tests/ui/mock_api.py 8766
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles

UI = Path(__file__).resolve().parents[2] / "src" / "cloudlabmanager" / "ui"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)

app = FastAPI()
state: dict[str, Any] = {"user": None, "session": False, "cached_at": None}
jobs: dict[int, dict[str, Any]] = {}
ids = itertools.count(1)
tasks: set[asyncio.Task[None]] = set()

SERVICES = [
    {
        "name": "test-ubuntu",
        "flow": "standard",
        "instances": [
            {"label": "testUbuntu", "hostname": "test", "plan": "vc2-1c-1gb", "region": "mel",
             "os": "Ubuntu 24.04 LTS x64", "tags": ["test-ubuntu"]},
        ],
    },
    {
        "name": "webpage",
        "flow": "standard",
        "instances": [
            {"label": "web1", "hostname": "www", "plan": "vc2-1c-2gb", "region": "syd",
             "os": "Debian 12 x64", "tags": ["webpage", "web"]},
            {"label": "web2", "hostname": "www2", "plan": "vc2-1c-2gb", "region": "syd",
             "os": "Debian 12 x64", "tags": ["webpage", "web"]},
        ],
    },
    {"name": "evil", "flow": "script", "instances": []},
    {"name": "broken", "flow": "standard", "instances": [],
     "error": "instance.yaml: line 3: mapping values are not allowed here"},
]
HOSTS: list[dict[str, Any]] = []


def now() -> str:
    return datetime.now(UTC).isoformat()


@app.middleware("http")
async def csp(request: Request, call_next: Any) -> Response:
    response: Response = await call_next(request)
    response.headers["Content-Security-Policy"] = CSP
    return response


def need_user(request: Request) -> JSONResponse | None:
    if not state["session"] or request.cookies.get("clm") != "ok":
        return JSONResponse({"detail": "Not signed in"}, status_code=401)
    return None


def signed_in(body: dict[str, str]) -> JSONResponse:
    state["session"] = True
    response = JSONResponse({"access_token": "x", "token_type": "bearer"})
    response.set_cookie("clm", "ok", httponly=True, samesite="strict")
    return response


@app.get("/api/auth/status")
async def status() -> dict[str, bool]:
    return {"setup_complete": state["user"] is not None}


@app.post("/api/auth/setup")
async def setup(request: Request) -> Response:
    if state["user"]:
        return JSONResponse({"detail": "Setup is done already"}, status_code=409)
    body = await request.json()
    state["user"] = body
    return signed_in(body)


@app.post("/api/auth/login")
async def login(request: Request) -> Response:
    body = await request.json()
    user = state["user"] or {}
    if body.get("username") != user.get("username") or body.get("password") != user.get("password"):
        return JSONResponse({"detail": "Wrong username or password"}, status_code=401)
    return signed_in(body)


@app.post("/api/auth/logout")
async def logout() -> Response:
    state["session"] = False
    response = JSONResponse({"status": "logged_out"})
    response.delete_cookie("clm")
    return response


@app.get("/api/auth/me")
async def me(request: Request) -> Response:
    return need_user(request) or JSONResponse({"username": state["user"]["username"]})


def active_job(service: str | None) -> int | None:
    for job in jobs.values():
        if job["status"] in ("queued", "running") and (job["service"] == service or service is None):
            return int(job["id"])
    return None


@app.get("/api/services")
async def services(request: Request) -> Response:
    return need_user(request) or JSONResponse(
        {"services": [{**s, "active_job": active_job(s["name"])} for s in SERVICES]}
    )


def summary(job: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in job.items() if k not in ("output", "event")}


def start(service: str | None, action: str, lines: list[str], delay: float) -> dict[str, Any]:
    job_id = next(ids)
    job = {
        "id": job_id, "service": service, "action": action, "status": "running",
        "created_at": now(), "started_at": now(), "finished_at": None, "deployment_id": None,
        "line_count": 0, "error": None, "output": [], "event": asyncio.Event(),
        "steps": [
            {"index": 1, "name": "start-instances", "status": "running", "started_at": now(),
             "finished_at": None, "exit_code": None,
             "command": "ansible-playbook init_playbook/start-instances.yaml -e '{...}'"},
            {"index": 2, "name": "main", "status": "queued", "started_at": None,
             "finished_at": None, "exit_code": None,
             "command": f"ansible-playbook services/{service}/main.yaml -i temp_inventory.yaml"},
        ],
        "hosts": [], "recap": [],
    }
    jobs[job_id] = job

    async def run() -> None:
        for i, line in enumerate(lines):
            if job["status"] != "running":
                return
            job["output"].append(line)
            job["line_count"] += 1
            if i == len(lines) // 2:
                job["steps"][0].update(status="completed", finished_at=now(), exit_code=0)
                job["steps"][1].update(status="running", started_at=now())
                job["hosts"].append({"step": 1, "play": "Create", "task": "Create VM",
                                     "host": "localhost", "status": "changed", "message": ""})
            job["event"].set()
            job["event"] = asyncio.Event()
            await asyncio.sleep(delay)
        job["steps"][1].update(status="completed", finished_at=now(), exit_code=0)
        job["recap"] = [{"step": 2, "host": "testUbuntu", "ok": 5, "changed": 2, "failed": 0,
                         "unreachable": 0, "skipped": 1, "rescued": 0, "ignored": 0}]
        finish(job, "completed")

    task = asyncio.create_task(run())
    tasks.add(task)
    task.add_done_callback(tasks.discard)
    return job


def finish(job: dict[str, Any], status: str) -> None:
    job["status"] = status
    job["finished_at"] = now()
    job["event"].set()


def ansible_lines(service: str, n: int) -> list[str]:
    out = [f"\x1b[1mPLAY [Deploy {service}]\x1b[0m " + "*" * 60]
    for i in range(n):
        out.append(f"TASK [step {i}] " + "*" * 50)
        out.append(f"\x1b[0;33mchanged: [testUbuntu]\x1b[0m => item {i}" if i % 3 else
                   f"\x1b[0;32mok: [testUbuntu]\x1b[0m")
    out.append("\x1b]8;;http://evil.example\x1b\\a hyperlink\x1b]8;;\x1b\\ and \x1b[38;5;196mextended\x1b[0m")
    out.append("<script>window.__pwned = 1</script> <img src=x onerror=\"window.__pwned=2\">")
    out.append("DEPLOYMENT_ID=abc123")
    out.append("PLAY RECAP: \x1b[0;32mok=5\x1b[0m \x1b[0;33mchanged=2\x1b[0m \x1b[0;31mfailed=0\x1b[0m")
    return out


@app.post("/api/services/{name}/deploy")
async def deploy(name: str, request: Request) -> Response:
    if denied := need_user(request):
        return denied
    if name not in {s["name"] for s in SERVICES}:
        return JSONResponse({"detail": f"Unknown service {name}"}, status_code=404)
    if busy := active_job(name):
        return JSONResponse({"detail": f"Service {name} is busy with job {busy}", "job_id": busy},
                            status_code=409)
    job = start(name, "deploy", ansible_lines(name, 40), 0.05)
    HOSTS.append({"label": "testUbuntu", "hostname": "test", "ip": "127.0.10.2", "region": "mel",
                  "plan": "vc2-1c-1gb", "os": "Ubuntu 24.04 LTS x64", "power_status": "running",
                  "tags": [name]})
    return JSONResponse({"job_id": job["id"], "status": job["status"]})


@app.post("/api/services/{name}/stop")
async def stop(name: str, request: Request) -> Response:
    if denied := need_user(request):
        return denied
    job = start(name, "stop", ansible_lines(name, 5), 0.05)
    return JSONResponse({"job_id": job["id"], "status": job["status"]})


@app.post("/api/services/actions/stop-all")
async def stop_all(request: Request) -> Response:
    if denied := need_user(request):
        return denied
    job = start(None, "stop_all", ansible_lines("all", 5), 0.05)
    HOSTS.clear()
    return JSONResponse({"job_id": job["id"], "status": job["status"]})


@app.get("/api/instances")
async def instances(request: Request) -> Response:
    return need_user(request) or JSONResponse(
        {"instances": {}, "hosts": HOSTS, "cached_at": state["cached_at"]}
    )


@app.post("/api/instances/refresh")
async def refresh(request: Request) -> Response:
    if denied := need_user(request):
        return denied
    job = start(None, "refresh", [f"TASK [inventory {i}]" for i in range(20)], 0.1)
    state["cached_at"] = now()
    return JSONResponse({"job_id": job["id"], "status": job["status"]})


@app.get("/api/jobs")
async def list_jobs(request: Request, limit: int = 50, before: int | None = None,
                    status: str | None = None, service: str | None = None) -> Response:
    if denied := need_user(request):
        return denied
    rows = [j for j in sorted(jobs.values(), key=lambda j: -j["id"])
            if (before is None or j["id"] < before) and (not status or j["status"] == status)
            and (not service or j["service"] == service)]
    page = rows[:limit]
    return JSONResponse({"jobs": [summary(j) for j in page],
                         "next_before": page[-1]["id"] if len(rows) > limit else None})


@app.get("/api/jobs/{job_id}")
async def get_job(job_id: int, request: Request, tail: int | None = None) -> Response:
    if denied := need_user(request):
        return denied
    job = jobs.get(job_id)
    if not job:
        return JSONResponse({"detail": "No such job"}, status_code=404)
    output = job["output"][-tail:] if tail else ([] if tail == 0 else job["output"])
    first = len(job["output"]) - len(output) + 1 if output else 0
    return JSONResponse({**summary(job), "output": output, "output_first_seq": first})


@app.get("/api/jobs/{job_id}/output")
async def output(job_id: int, request: Request, after: int = 0, limit: int = 1000) -> Response:
    if denied := need_user(request):
        return denied
    job = jobs[job_id]
    lines = [{"seq": i + 1, "text": t} for i, t in enumerate(job["output"][after:after + limit], after)]
    nxt = after + len(lines) if after + len(lines) < len(job["output"]) else None
    return JSONResponse({"lines": lines, "next": nxt})


@app.post("/api/jobs/{job_id}/cancel")
async def cancel(job_id: int, request: Request) -> Response:
    if denied := need_user(request):
        return denied
    job = jobs[job_id]
    if job["status"] not in ("queued", "running"):
        return JSONResponse({"detail": f"Job {job_id} has ended"}, status_code=409)
    job["output"].append("Cancelled by the user")
    job["line_count"] += 1
    finish(job, "cancelled")
    return JSONResponse({"status": "cancelled"})


@app.get("/api/jobs/{job_id}/stream")
async def stream(job_id: int, request: Request) -> Response:
    if denied := need_user(request):
        return denied
    job = jobs[job_id]
    start_at = int(request.headers.get("last-event-id") or 0)

    async def events() -> Any:
        sent = start_at
        yield f"event: status\ndata: {json.dumps({'status': job['status']})}\n\n"
        while True:
            event = job["event"]
            while sent < len(job["output"]):
                yield f"id: {sent + 1}\ndata: {job['output'][sent]}\n\n"
                sent += 1
            if job["status"] not in ("queued", "running"):
                yield f"event: done\ndata: {job['status']}\n\n"
                return
            try:
                await asyncio.wait_for(event.wait(), 10)
            except TimeoutError:
                yield ": heartbeat\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")


@app.get("/")
async def index() -> FileResponse:
    return FileResponse(UI / "index.html")


app.mount("/assets", StaticFiles(directory=UI), name="assets")


@app.on_event("startup")
async def big_job() -> None:
    job_id = next(ids)
    out = [f"line {i} \x1b[32mok\x1b[0m some text" for i in range(1, 100_001)]
    jobs[job_id] = {
        "id": job_id, "service": "webpage", "action": "deploy", "status": "completed",
        "created_at": now(), "started_at": now(), "finished_at": now(), "deployment_id": None,
        "line_count": len(out), "error": None, "output": out, "event": asyncio.Event(),
        "steps": [], "hosts": [], "recap": [],
    }


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]) if len(sys.argv) > 1 else 8766)

"""Routes of /api/jobs: history, detail, output pages, the live stream, cancel."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel

from cloudlabmanager.api.deps import Context, CurrentUser
from cloudlabmanager.errors import NotFound, ServiceUnavailable
from cloudlabmanager.jobs.engine import JobEngine
from cloudlabmanager.jobs.follow import Done, Heartbeat, Lines, Status, follow_job
from cloudlabmanager.jobs.live import Batch
from cloudlabmanager.jobs.states import ALL_STATUSES
from cloudlabmanager.jobs.store import JobRow

router = APIRouter(prefix="/api/jobs", tags=["jobs"])
SERVICE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"

MAX_SEQ = 2**62
DETAIL_OUTPUT_CAP = 10_000
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such job"},
    401: {"description": "Not signed in"},
}


def get_engine(ctx: Context) -> JobEngine:
    if ctx.jobs is None:
        raise ServiceUnavailable("The job engine is not running")
    return ctx.jobs


Engine = Annotated[JobEngine, Depends(get_engine)]


class JobSummaryRead(BaseModel):
    id: int
    action: str
    service: str | None
    status: str
    created_by: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    exit_code: int | None
    deployment_id: str | None
    error: str | None
    line_count: int
    params: dict[str, Any]


class JobListRead(BaseModel):
    jobs: list[JobSummaryRead]
    next_before: int | None


class StepRead(BaseModel):
    index: int
    name: str
    command: str
    status: str
    started_at: datetime | None
    finished_at: datetime | None
    exit_code: int | None


class JobReadHead(JobSummaryRead):
    steps: list[StepRead]
    hosts: list[dict[str, Any]]
    recap: list[dict[str, Any]]
    output_first_seq: int


class JobRead(JobReadHead):
    output: list[str]


class LineRead(BaseModel):
    seq: int
    text: str


class OutputPageRead(BaseModel):
    lines: list[LineRead]
    next: int | None


class CancelRead(BaseModel):
    status: str


def _summary(job: JobRow) -> JobSummaryRead:
    # The row's extra fields (lock key, process group) are not part of the answer.
    return JobSummaryRead.model_validate(job, from_attributes=True)


@router.get("", responses={401: {"description": "Not signed in"}, 422: {"description": "Bad"}})
async def list_jobs(
    engine: Engine,
    _user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: Annotated[int | None, Query(ge=1, le=MAX_SEQ)] = None,
    status: Annotated[str | None, Query(max_length=16)] = None,
    service: Annotated[str | None, Query(max_length=64, pattern=SERVICE_PATTERN)] = None,
) -> JobListRead:
    if status is not None and status not in ALL_STATUSES:
        status = "none-such"  # an unknown status matches no job rather than erroring
    # One row more than asked tells whether an older page exists at all.
    rows = await run_in_threadpool(
        engine.store.list_jobs, limit=limit + 1, before=before, status=status, service=service
    )
    page = rows[:limit]
    next_before = page[-1].id if len(rows) > limit else None
    return JobListRead(jobs=[_summary(r) for r in page], next_before=next_before)


@router.get(
    "/{job_id}",
    response_model=JobRead,
    responses={**NOT_FOUND, 422: {"description": "Bad id"}},
)
async def get_job(
    job_id: int,
    engine: Engine,
    _user: CurrentUser,
    tail: Annotated[int | None, Query(ge=0, le=DETAIL_OUTPUT_CAP)] = None,
) -> Response:
    _check_id(job_id)
    detail = await run_in_threadpool(engine.store.detail, job_id)
    lines = await run_in_threadpool(
        engine.store.tail, job_id, DETAIL_OUTPUT_CAP if tail is None else tail
    )
    head = JobReadHead(
        **_summary(detail.job).model_dump(),
        steps=[StepRead(**vars(s)) for s in detail.steps],
        hosts=detail.hosts,
        recap=detail.recap,
        output_first_seq=lines[0][0] if lines else 0,
    )
    # Up to 10 000 lines: encoded by the json module in one call, not model by model.
    body = head.model_dump(mode="json")
    body["output"] = [text for _, text in lines]
    return _json(body)


@router.get(
    "/{job_id}/output",
    response_model=OutputPageRead,
    responses={**NOT_FOUND, 422: {"description": "Bad query"}},
)
async def get_output(
    job_id: int,
    engine: Engine,
    _user: CurrentUser,
    after: Annotated[int, Query(ge=0, le=MAX_SEQ)] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> Response:
    _check_id(job_id)
    await run_in_threadpool(engine.store.get, job_id)
    lines = await run_in_threadpool(engine.store.lines_after, job_id, after, limit)
    # The shape of OutputPageRead, encoded in one call (a model per line cost ~20x).
    return _json(
        {
            "lines": [{"seq": s, "text": t} for s, t in lines],
            "next": lines[-1][0] if len(lines) == limit else None,
        }
    )


def _json(body: dict[str, Any]) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        media_type="application/json",
    )


def _sse_batch(batch: Batch) -> bytes:
    """A batch as SSE events, rendered once and shared by every follower of the job."""
    if batch.rendered is None:
        seq = batch.first_seq
        parts = []
        for text in batch.lines:
            if "\r" in text or "\n" in text:
                parts.append(f"id: {seq}\n{_sse_data(text)}\n")
            else:
                parts.append(f"id: {seq}\ndata: {text}\n\n")
            seq += 1
        batch.rendered = "".join(parts).encode()  # encoded once, not once per follower
    return batch.rendered


def _sse_data(text: str) -> str:
    # A carriage return would end the field early and let a line forge events:
    # each physical piece becomes its own data field, which clients join with \n.
    return "".join(
        f"data: {part}\n" for part in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    )


def _parse_last_event_id(value: str | None) -> int:
    if value is None or not value.strip().isdigit() or len(value.strip()) > 18:
        return 0
    return int(value.strip())


@router.get(
    "/{job_id}/stream",
    responses={**NOT_FOUND, 200: {"content": {"text/event-stream": {}}}},
    response_class=StreamingResponse,
)
async def stream_job(
    job_id: int,
    engine: Engine,
    _user: CurrentUser,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    after: Annotated[int | None, Query(ge=0, le=MAX_SEQ)] = None,
) -> StreamingResponse:
    _check_id(job_id)
    await run_in_threadpool(engine.store.get, job_id)  # 404 before the stream starts
    cursor = _parse_last_event_id(last_event_id) or (after or 0)

    async def events() -> AsyncIterator[bytes]:
        yield b"retry: 2000\n\n"
        async for event in follow_job(engine.store, engine.hub, job_id, cursor):
            if isinstance(event, Lines):
                rendered = [_sse_batch(batch) for batch in event.batches]
                yield rendered[0] if len(rendered) == 1 else b"".join(rendered)
            elif isinstance(event, Status):
                yield f"event: status\ndata: {json.dumps({'status': event.status})}\n\n".encode()
            elif isinstance(event, Heartbeat):
                yield b": keep-alive\n\n"
            elif isinstance(event, Done):
                yield f"event: done\ndata: {event.status}\n\n".encode()

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.post("/{job_id}/cancel", responses={**NOT_FOUND, 409: {"description": "Ended"}})
async def cancel_job(job_id: int, engine: Engine, _user: CurrentUser) -> CancelRead:
    _check_id(job_id)
    return CancelRead(status=await engine.cancel(job_id))


def _check_id(job_id: int) -> None:
    if not 1 <= job_id <= MAX_SEQ:
        raise NotFound(f"No job {job_id}")

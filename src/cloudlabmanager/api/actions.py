"""Routes that start jobs: deploy, stop, stop all, refresh instances, destroy one instance."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import Field

from cloudlabmanager.api.deps import CurrentUser
from cloudlabmanager.api.jobs import Engine
from cloudlabmanager.api.schemas import CleanStr, JobStarted, StrictBody
from cloudlabmanager.jobs.store import JobRow

router = APIRouter(tags=["actions"])

STARTED: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in"},
    404: {"description": "Unknown service"},
    409: {"description": "Another job holds the lock (its id in job_id)"},
}


class InstanceStopCreate(StrictBody):
    label: CleanStr = Field(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    region: CleanStr = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9-]+$")


def _started(job: JobRow) -> JobStarted:
    return JobStarted(job_id=job.id, status=job.status)


@router.post("/api/services/actions/stop-all", responses=STARTED)
async def stop_all(engine: Engine, user: CurrentUser) -> JobStarted:
    return _started(await engine.submit("stop_all", None, {}, user.username))


@router.post("/api/services/{name}/deploy", responses=STARTED)
async def deploy(name: str, engine: Engine, user: CurrentUser) -> JobStarted:
    return _started(await engine.submit("deploy", name, {}, user.username))


@router.post("/api/services/{name}/stop", responses=STARTED)
async def stop(name: str, engine: Engine, user: CurrentUser) -> JobStarted:
    return _started(await engine.submit("stop", name, {}, user.username))


@router.post("/api/instances/refresh", responses=STARTED)
async def refresh(engine: Engine, user: CurrentUser) -> JobStarted:
    return _started(await engine.submit("refresh", None, {}, user.username))


@router.post("/api/instances/stop", responses={**STARTED, 422: {"description": "Bad body"}})
async def destroy_instance(
    body: InstanceStopCreate, engine: Engine, user: CurrentUser
) -> JobStarted:
    params = {"label": body.label, "region": body.region}
    return _started(await engine.submit("destroy", None, params, user.username))

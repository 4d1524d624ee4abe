"""Routes of the instances area: the cached picture of the cloud (read-only here)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from cloudlabmanager.api.deps import Context, CurrentUser
from cloudlabmanager.lab.inventory import InstancesView, read_instances

router = APIRouter(tags=["instances"])


class HostRead(BaseModel):
    label: str
    hostname: str | None
    ip: str | None
    region: str | None
    plan: str | None
    os: str | None
    power_status: str | None
    tags: list[str]


class InstancesRead(BaseModel):
    instances: dict[str, Any]
    hosts: list[HostRead]
    cached_at: datetime | None


def _read(view: InstancesView) -> InstancesRead:
    return InstancesRead(
        instances=view.instances,
        hosts=[HostRead.model_validate(h, from_attributes=True) for h in view.hosts],
        cached_at=view.cached_at,
    )


@router.get("/api/instances", responses={401: {"description": "Not signed in"}})
async def instances_read(ctx: Context, _user: CurrentUser) -> InstancesRead:
    view = await run_in_threadpool(read_instances, ctx)
    return _read(view)

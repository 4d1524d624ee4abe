"""Routes of the services area: the lab's services and their VMs (read-only here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from cloudlabmanager.api.deps import Context, CurrentUser
from cloudlabmanager.context import AppContext
from cloudlabmanager.errors import ServiceUnavailable
from cloudlabmanager.lab.activity import active_jobs_by_service
from cloudlabmanager.lab.discovery import InstanceSpec, Service, get_service, list_services
from cloudlabmanager.lab.inventory import redact

router = APIRouter(tags=["services"])


class InstanceSpecRead(BaseModel):
    label: str
    hostname: str | None
    plan: str | None
    region: str | None
    os: str | None
    tags: list[str]


class ServiceRead(BaseModel):
    name: str
    flow: Literal["standard", "script"]
    instances: list[InstanceSpecRead]
    active_job: int | None
    error: str | None


class ServiceDetailRead(ServiceRead):
    key_name: str | None
    key_location: str | None
    temp_inventory: str | None
    instance_yaml: dict[str, Any] | None


class ServiceListRead(BaseModel):
    services: list[ServiceRead]


def _spec(spec: InstanceSpec) -> InstanceSpecRead:
    return InstanceSpecRead.model_validate(spec, from_attributes=True)


def _read(service: Service, active: dict[str, int]) -> ServiceRead:
    return ServiceRead(
        name=service.name,
        flow=service.flow,
        instances=[_spec(spec) for spec in service.instances],
        active_job=active.get(service.name),
        error=service.error,
    )


def _lab(ctx: AppContext) -> Path:
    if ctx.lab_dir is None:
        raise ServiceUnavailable("The lab is not ready.")
    return ctx.lab_dir


def _list(ctx: AppContext) -> ServiceListRead:
    services = list_services(_lab(ctx))
    active = active_jobs_by_service(ctx.engine)
    return ServiceListRead(services=[_read(service, active) for service in services])


def _detail(ctx: AppContext, name: str) -> ServiceDetailRead:
    lab = _lab(ctx)
    service = get_service(lab, name)
    active = active_jobs_by_service(ctx.engine)
    temp = service.temp_inventory
    return ServiceDetailRead(
        **_read(service, active).model_dump(),
        key_name=service.key_name,
        key_location=service.key_location,
        temp_inventory=str(temp.relative_to(lab)) if temp else None,
        instance_yaml=redact(service.document) if service.document is not None else None,
    )


@router.get("/api/services", responses={401: {"description": "Not signed in"}})
async def services_list(ctx: Context, _user: CurrentUser) -> ServiceListRead:
    return await run_in_threadpool(_list, ctx)


@router.get(
    "/api/services/{name}",
    responses={401: {"description": "Not signed in"}, 404: {"description": "Unknown"}},
)
async def service_detail(name: str, ctx: Context, _user: CurrentUser) -> ServiceDetailRead:
    return await run_in_threadpool(_detail, ctx, name)

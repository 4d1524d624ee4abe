"""The Vultr API v2 routes of the sandbox (mounted under `/vultr/v2`).

Paths, JSON shapes, status codes and cursor pagination follow the real API:
lists answer `{"<plural>": [...], "meta": {"total": n, "links": {"next": c, "prev": c}}}`
with `per_page` (default 100, at most 500) and an opaque `cursor`; creation
answers 201, deletion and power actions 204, updates 202; errors are
`{"error": message, "status": code}`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from . import catalog
from .errors import VultrError, bad_request
from .instances import InstanceService
from .requests import (
    bearer_token,
    decode_cursor,
    encode_cursor,
    parse_int,
    read_body,
    token_matches,
)
from .ssh_keys import SshKeyService

Payload = dict[str, Any]
MAX_PER_PAGE = 500
DEFAULT_PER_PAGE = 100
INSTANCE_FILTERS = ("label", "tag", "region", "main_ip", "hostname")


def paginate(request: Request, items: list[Any], plural: str) -> Payload:
    """One page of `items` with the real `meta` block."""
    per_page = parse_int(request.query_params.get("per_page"), DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)
    if per_page is None:
        raise bad_request("Invalid per_page.")
    cursor = request.query_params.get("cursor")
    offset = decode_cursor(cursor) if cursor else 0
    page = items[offset : offset + per_page]
    has_next = offset + per_page < len(items)
    return {
        plural: page,
        "meta": {
            "total": len(items),
            "links": {
                "next": encode_cursor("next", offset + per_page) if has_next else "",
                "prev": encode_cursor("prev", max(0, offset - per_page)) if offset > 0 else "",
            },
        },
    }


async def json_body(request: Request) -> Payload:
    body = await read_body(request)
    if body is None:
        raise bad_request("Invalid request body: expected a JSON object.")
    return body


Body = Annotated[Payload, Depends(json_body)]


def build_vultr_router(
    api_key: str, instances: InstanceService, ssh_keys: SshKeyService
) -> APIRouter:
    def require_api_key(request: Request) -> None:
        if not token_matches(bearer_token(request), api_key):
            raise VultrError(401, "Invalid API token.")

    router = APIRouter(dependencies=[Depends(require_api_key)])

    @router.get("/regions")
    def list_regions(request: Request) -> Payload:
        return paginate(request, catalog.REGIONS, "regions")

    @router.get("/plans")
    def list_plans(request: Request) -> Payload:
        wanted = request.query_params.get("type")
        plans = [plan for plan in catalog.PLANS if wanted in (None, "all", plan["type"])]
        return paginate(request, plans, "plans")

    @router.get("/os")
    def list_os(request: Request) -> Payload:
        return paginate(request, catalog.OPERATING_SYSTEMS, "os")

    @router.get("/ssh-keys")
    def list_ssh_keys(request: Request) -> Payload:
        return paginate(request, ssh_keys.all(), "ssh_keys")

    @router.post("/ssh-keys", status_code=201)
    def create_ssh_key(body: Body) -> Payload:
        return {"ssh_key": ssh_keys.create(body)}

    @router.get("/ssh-keys/{key_id}")
    def get_ssh_key(key_id: str) -> Payload:
        return {"ssh_key": ssh_keys.get(key_id)}

    @router.patch("/ssh-keys/{key_id}", status_code=204)
    def update_ssh_key(key_id: str, body: Body) -> Response:
        ssh_keys.update(key_id, body)
        return Response(status_code=204)

    @router.delete("/ssh-keys/{key_id}", status_code=204)
    def delete_ssh_key(key_id: str) -> Response:
        ssh_keys.delete(key_id)
        return Response(status_code=204)

    @router.get("/instances")
    def list_instances(request: Request) -> Payload:
        filters = {
            key: value
            for key in INSTANCE_FILTERS
            if (value := request.query_params.get(key)) not in (None, "")
        }
        return paginate(request, instances.search(filters), "instances")

    @router.post("/instances", status_code=201)
    def create_instance(body: Body) -> Payload:
        return {"instance": instances.create(body)}

    def bulk_power(body: Payload, action: str) -> Response:
        ids = body.get("instance_ids")
        if not isinstance(ids, list) or not all(isinstance(item, str) for item in ids):
            raise bad_request("Invalid instance_ids.")
        for instance_id in ids:
            instances.get(instance_id)
        for instance_id in ids:
            instances.set_power(instance_id, action)
        return Response(status_code=204)

    @router.post("/instances/halt", status_code=204)
    def halt_instances(body: Body) -> Response:
        return bulk_power(body, "halt")

    @router.post("/instances/start", status_code=204)
    def start_instances(body: Body) -> Response:
        return bulk_power(body, "start")

    @router.post("/instances/reboot", status_code=204)
    def reboot_instances(body: Body) -> Response:
        return bulk_power(body, "reboot")

    @router.get("/instances/{instance_id}")
    def get_instance(instance_id: str) -> Payload:
        return {"instance": instances.get(instance_id)}

    @router.patch("/instances/{instance_id}", status_code=202)
    def update_instance(instance_id: str, body: Body) -> Payload:
        return {"instance": instances.update(instance_id, body)}

    @router.delete("/instances/{instance_id}", status_code=204)
    def delete_instance(instance_id: str) -> Response:
        instances.delete(instance_id)
        return Response(status_code=204)

    @router.post("/instances/{instance_id}/{action}", status_code=204)
    def power_action(instance_id: str, action: str) -> Response:
        if action not in ("halt", "start", "reboot"):
            raise VultrError(404, "Not found.")
        instances.set_power(instance_id, action)
        return Response(status_code=204)

    @router.get("/instances/{instance_id}/user-data")
    def get_user_data(instance_id: str) -> Payload:
        return {"user_data": {"data": instances.user_data(instance_id)}}

    @router.get("/instances/{instance_id}/vpcs")
    @router.get("/instances/{instance_id}/vpc2")
    def list_instance_vpcs(request: Request, instance_id: str) -> Payload:
        instances.get(instance_id)
        return paginate(request, [], "vpcs")

    return router

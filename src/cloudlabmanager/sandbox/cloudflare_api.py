"""The Cloudflare API v4 routes of the sandbox (mounted under `/cloudflare/client/v4`).

Every answer is the real envelope `{"success", "errors", "messages", "result"}`;
lists add `result_info` (`page`, `per_page`, `count`, `total_count`,
`total_pages`) and are paginated with `page`/`per_page` (zones: 20 per page by
default, 5 to 50; DNS records: 100 by default). Authentication is an API token
as `Authorization: Bearer <token>`.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from .dns import DnsService
from .errors import CloudflareError
from .requests import bearer_token, parse_int, read_body, token_matches

Payload = dict[str, Any]
RECORD_FILTERS = ("type", "name", "content")


def envelope(result: Any, result_info: Payload | None = None) -> Payload:
    answer: Payload = {"success": True, "errors": [], "messages": [], "result": result}
    if result_info is not None:
        answer["result_info"] = result_info
    return answer


def paginated(request: Request, items: list[Any], default: int, low: int, high: int) -> Payload:
    page = parse_int(request.query_params.get("page"), 1, 1, 10**9)
    per_page = parse_int(request.query_params.get("per_page"), default, low, high)
    if page is None or per_page is None:
        raise CloudflareError(400, 1001, "Invalid page or per_page.")
    chunk = items[(page - 1) * per_page : page * per_page]
    info = {
        "page": page,
        "per_page": per_page,
        "count": len(chunk),
        "total_count": len(items),
        "total_pages": math.ceil(len(items) / per_page),
    }
    return envelope(chunk, info)


async def json_body(request: Request) -> Payload:
    body = await read_body(request)
    if body is None:
        raise CloudflareError(400, 9207, "Request body is invalid.")
    return body


Body = Annotated[Payload, Depends(json_body)]


def build_cloudflare_router(api_token: str, dns: DnsService) -> APIRouter:
    def require_token(request: Request) -> None:
        presented = bearer_token(request)
        if presented is None:
            raise CloudflareError(400, 6003, "Invalid request headers")
        if not token_matches(presented, api_token):
            raise CloudflareError(403, 9109, "Invalid access token")

    router = APIRouter(dependencies=[Depends(require_token)])

    @router.get("/user/tokens/verify")
    def verify_token() -> Payload:
        return envelope({"id": "0" * 32, "status": "active"}) | {
            "messages": [{"code": 10000, "message": "This API Token is valid and active"}]
        }

    @router.get("/zones")
    def list_zones(request: Request) -> Payload:
        zones = dns.list_zones(request.query_params.get("name"))
        return paginated(request, zones, default=20, low=5, high=50)

    @router.post("/zones")
    def create_zone(body: Body) -> Payload:
        return envelope(dns.create_zone(body))

    @router.get("/zones/{zone_id}")
    def get_zone(zone_id: str) -> Payload:
        return envelope(dns.get_zone(zone_id))

    @router.get("/zones/{zone_id}/dns_records")
    def list_records(request: Request, zone_id: str) -> Payload:
        filters = {
            key: value
            for key in RECORD_FILTERS
            if (value := request.query_params.get(key)) not in (None, "")
        }
        records = dns.list_records(zone_id, filters)
        return paginated(request, records, default=100, low=5, high=5000)

    @router.post("/zones/{zone_id}/dns_records")
    def create_record(zone_id: str, body: Body) -> Payload:
        return envelope(dns.create_record(zone_id, body))

    @router.get("/zones/{zone_id}/dns_records/{record_id}")
    def get_record(zone_id: str, record_id: str) -> Payload:
        return envelope(dns.get_record(zone_id, record_id))

    @router.put("/zones/{zone_id}/dns_records/{record_id}")
    def replace_record(zone_id: str, record_id: str, body: Body) -> Payload:
        return envelope(dns.update_record(zone_id, record_id, body, partial=False))

    @router.patch("/zones/{zone_id}/dns_records/{record_id}")
    def patch_record(zone_id: str, record_id: str, body: Body) -> Payload:
        return envelope(dns.update_record(zone_id, record_id, body, partial=True))

    @router.delete("/zones/{zone_id}/dns_records/{record_id}")
    def delete_record(zone_id: str, record_id: str) -> Payload:
        dns.delete_record(zone_id, record_id)
        return envelope({"id": record_id})

    return router

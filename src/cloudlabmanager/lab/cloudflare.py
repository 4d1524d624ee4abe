"""The startup zone lookup: the id of the Cloudflare zone named dns_basename.

Reads every page of `/zones?name=…`. The transport is a parameter so that the
lifespan can point the lookup at the in-process sandbox before the server listens.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from cloudlabmanager.errors import StartupError

PER_PAGE = 50
MAX_PAGES = 200
ATTEMPTS = 3


async def _get_page(
    client: httpx.AsyncClient, url: str, params: dict[str, Any], token_name: str
) -> dict[str, Any]:
    for attempt in range(ATTEMPTS):
        try:
            response = await client.get(url, params=params)
        except httpx.HTTPError as exc:
            if attempt + 1 < ATTEMPTS:
                await asyncio.sleep(attempt + 1)
                continue
            raise StartupError(
                f"cannot reach the Cloudflare API at {url} ({type(exc).__name__}); check "
                "the network or CLM_CLOUDFLARE_API_URL, or set LOCAL_MODE=true to skip DNS"
            ) from None
        if response.status_code in (429, 500, 502, 503, 504) and attempt + 1 < ATTEMPTS:
            retry_after = response.headers.get("retry-after", "")
            await asyncio.sleep(min(float(retry_after), 5.0) if retry_after.isdigit() else 1.0)
            continue
        if response.status_code in (401, 403):
            raise StartupError(
                f"the Cloudflare API at {url} refused the token in {token_name} "
                f"(HTTP {response.status_code}); use a token with Zone:Read permission"
            )
        if response.status_code != 200:
            raise StartupError(
                f"the Cloudflare API at {url} answered HTTP {response.status_code}; "
                "try again later or set LOCAL_MODE=true to skip DNS"
            )
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("result"), list):
            raise StartupError(f"the Cloudflare API at {url} answered something other than JSON")
        return body
    raise AssertionError("unreachable")  # pragma: no cover


async def find_zone_id(
    api_url: str,
    token: str,
    zone_name: str,
    *,
    token_name: str = "CLOUDFLARE_API_TOKEN",  # noqa: S107 - a variable name
    transport: httpx.AsyncBaseTransport | None = None,
    request_timeout: float = 30.0,
) -> str:
    """The id of the zone called zone_name; StartupError naming zone and token if absent."""
    url = api_url.rstrip("/") + "/zones"
    wanted = zone_name.strip(".").lower()
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    async with httpx.AsyncClient(
        transport=transport, headers=headers, timeout=request_timeout, follow_redirects=False
    ) as client:
        page, total_pages = 1, 1
        while page <= min(total_pages, MAX_PAGES):
            params = {"name": wanted, "page": page, "per_page": PER_PAGE}
            body = await _get_page(client, url, params, token_name)
            for zone in body["result"]:
                if isinstance(zone, dict) and str(zone.get("name", "")).lower() == wanted:
                    zone_id = zone.get("id")
                    if isinstance(zone_id, str) and zone_id:
                        return zone_id
            info = body.get("result_info")
            pages = info.get("total_pages") if isinstance(info, dict) else None
            total_pages = pages if isinstance(pages, int) else 1
            page += 1
    raise StartupError(
        f"no Cloudflare zone named {wanted!r} is visible to the token in {token_name}; "
        "add the zone to the account, give the token Zone:Read on it, fix dns_basename, "
        "or set LOCAL_MODE=true to skip DNS"
    )

"""lab/cloudflare.py: the zone lookup reads every page and names zone and token on failure."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from cloudlabmanager.errors import StartupError
from cloudlabmanager.lab.cloudflare import find_zone_id
from cloudlabmanager.sandbox.app import create_sandbox_app

API = "https://api.example.invalid/client/v4"


def _cloudflare(
    zones: list[dict[str, str]], token: str, per_page_cap: int = 5
) -> httpx.MockTransport:
    """Cloudflare's /zones as documented: bearer auth, page/per_page, result_info.

    It ignores the name filter (as a proxy in front of it might), so the client must
    both page and match names itself.
    """
    seen: list[int] = []

    def handle(request: httpx.Request) -> httpx.Response:
        if request.headers.get("authorization") != f"Bearer {token}":
            return httpx.Response(403, json={"success": False, "errors": [{"code": 9109}]})
        page = int(request.url.params.get("page", "1"))
        per_page = min(int(request.url.params.get("per_page", "20")), per_page_cap)
        seen.append(page)
        chunk = zones[(page - 1) * per_page : page * per_page]
        total_pages = max(1, -(-len(zones) // per_page))
        info = {
            "page": page,
            "per_page": per_page,
            "count": len(chunk),
            "total_count": len(zones),
            "total_pages": total_pages,
        }
        return httpx.Response(200, json={"success": True, "result": chunk, "result_info": info})

    transport = httpx.MockTransport(handle)
    transport.pages_seen = seen  # type: ignore[attr-defined]
    return transport


ZONES = [{"id": f"id{i:02d}", "name": f"zone{i:02d}.test"} for i in range(12)]


async def test_the_zone_on_the_last_page_is_found() -> None:
    transport = _cloudflare(ZONES, "tok")
    assert await find_zone_id(API, "tok", "zone11.test", transport=transport) == "id11"
    assert transport.pages_seen == [1, 2, 3]  # type: ignore[attr-defined]


async def test_a_missing_zone_names_the_zone_and_the_token_variable() -> None:
    with pytest.raises(StartupError) as caught:
        await find_zone_id(
            API, "tok-value-9", "absent.test", transport=_cloudflare(ZONES, "tok-value-9")
        )
    message = str(caught.value)
    assert "absent.test" in message and "CLOUDFLARE_API_TOKEN" in message
    assert "tok-value-9" not in message


async def test_a_refused_token_says_which_token_but_not_its_value() -> None:
    with pytest.raises(StartupError) as caught:
        await find_zone_id(API, "wrong-9876", "zone01.test", transport=_cloudflare(ZONES, "tok"))
    assert "CLOUDFLARE_API_TOKEN" in str(caught.value)
    assert "403" in str(caught.value)
    assert "wrong-9876" not in str(caught.value)


async def test_an_answer_that_is_not_json_is_refused() -> None:
    transport = httpx.MockTransport(lambda _r: httpx.Response(200, text="<html>"))
    with pytest.raises(StartupError, match="other than JSON"):
        await find_zone_id(API, "tok", "zone01.test", transport=transport)


async def test_the_real_sandbox_answers_the_lookup(tmp_path: Path) -> None:
    sandbox = create_sandbox_app(tmp_path / "sandbox")
    transport = httpx.ASGITransport(app=sandbox)
    zone_id = await find_zone_id(
        "http://sandbox/cloudflare/client/v4", "sandbox", "lab.test", transport=transport
    )
    assert len(zone_id) == 32
    with pytest.raises(StartupError, match="refused the token"):
        await find_zone_id(
            "http://sandbox/cloudflare/client/v4", "bad", "lab.test", transport=transport
        )

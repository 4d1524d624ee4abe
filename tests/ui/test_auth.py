"""First boot, login, logout and the way back after an expired session."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_first_boot_shows_setup_and_creates_the_admin(page: Any, server: Any, admin: Any) -> None:
    page.goto(f"{server.url}/#/services")
    expect(page).to_have_url(f"{server.url}/#/setup")
    expect(page.get_by_role("heading", name="Welcome — set up CloudLab Manager")).to_be_visible()

    page.get_by_label("Username").fill(admin["username"])
    page.get_by_label("Password", exact=True).fill(admin["password"])
    page.get_by_label("Vault password").fill(admin["vault_password"])
    page.get_by_role("button", name="Create account").click()

    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.locator("#user-name")).to_have_text(admin["username"])
    with server.client() as client:
        assert client.get("/api/auth/status").json() == {"setup_complete": True}

    # Setup is never shown again.
    page.goto(f"{server.url}/#/setup")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def test_setup_form_explains_missing_fields(page: Any, server: Any) -> None:
    page.goto(f"{server.url}/")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("alert")).to_contain_text("Please fill in “Username”")
    expect(page.get_by_label("Username")).to_be_focused()


def test_login_logout_and_wrong_password(
    page: Any, server: Any, console: Any, admin: Any, set_up_admin: Any
) -> None:
    set_up_admin(page, server)
    page.goto(f"{server.url}/#/jobs")
    expect(page.get_by_role("heading", name="Jobs")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_label("Username")).to_be_focused()
    # The session is gone on the server too: a protected route leads back to Login.
    page.goto(f"{server.url}/#/services")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    console.allow(r"status of 401 .*?/api/auth/login$")
    page.get_by_label("Username").fill(admin["username"])
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_role("button", name="Sign in")).to_be_enabled()

    page.get_by_label("Password").fill(admin["password"])
    page.get_by_role("button", name="Sign in").click()
    # Back to where the user was going.
    expect(page.get_by_role("heading", name="Services")).to_be_visible()
    expect(page).to_have_url(f"{server.url}/#/services")


def test_expired_session_returns_to_the_same_route_after_login(
    page: Any, server: Any, console: Any, admin: Any, set_up_admin: Any
) -> None:
    set_up_admin(page, server)
    page.goto(f"{server.url}/#/jobs?status=failed")
    expect(page.get_by_role("heading", name="Jobs")).to_be_visible()

    # The session ends behind the page's back (another tab logs out).
    console.allow(r"status of 401 ")
    page.context.clear_cookies()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Instances").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_text("Your session ended")).to_be_visible()

    page.get_by_label("Username").fill(admin["username"])
    page.get_by_label("Password").fill(admin["password"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Instances")).to_be_visible()
    expect(page).to_have_url(f"{server.url}/#/instances")

"""Schemathesis against the OpenAPI description of a real server process, signed in.

Every operation gets generated requests (valid and invalid); every answer must be
no 5xx, a status code the description documents, the documented content type and
a body that matches the documented schema. Bounded: a fixed number of examples per
operation, derandomised so that CI runs are reproducible.

Job steps get a PATH without ansible-playbook, so the jobs that stop-all and
refresh start fail at once instead of running Ansible for minutes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation.case import Case

from cloudlabmanager.app import create_app
from cloudlabmanager.config import Settings
from tests.conftest import ADMIN
from tests.security.conftest import write_security_lab
from tests.serverproc import ServerProcess, server_env

pytestmark = pytest.mark.slow

EXAMPLES_PER_OPERATION = 30
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


class Api:
    def __init__(self, server: ServerProcess, token: str) -> None:
        self.server = server
        self.token = token

    def fresh_token(self) -> str:
        answer = httpx.post(
            self.server.url + "/api/auth/login",
            json={"username": ADMIN["username"], "password": ADMIN["password"]},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        token: str = answer.json()["access_token"]
        return token


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    root = tmp_path_factory.mktemp("fuzz")
    lab = write_security_lab(root / "lab")
    env = server_env(
        root / "data",
        CLM_LAB=str(lab),
        CLM_SANDBOX="false",
        LOCAL_MODE="true",
        CLM_JOB_PATH="/usr/bin:/bin",
        CLM_CANCEL_GRACE="1",
        # Generated logins fail by the hundred; the throttle has its own tests.
        CLM_LOGIN_MAX_FAILURES="1000000",
    )
    server = ServerProcess(env, root / "server.log")
    server.start(timeout=120)
    try:
        answer = httpx.post(server.url + "/api/auth/setup", json=ADMIN, timeout=30)
        assert answer.status_code == 200, answer.text
        yield Api(server, answer.json()["access_token"])
        assert server.proc is not None and server.proc.poll() is None, "the server died"
    finally:
        server.stop()


def _description() -> dict[str, object]:
    """The app's OpenAPI description, built without starting it (no lifespan needed).

    Loaded at import so that pytest can parametrize over its operations; the test
    below checks that the running server serves exactly this description.
    """
    settings = Settings(_env_file=None, CLM_LAB="/nonexistent", CLM_SANDBOX=False)
    description: dict[str, object] = create_app(settings).openapi()
    return description


DESCRIPTION = _description()
schema = schemathesis.openapi.from_dict(DESCRIPTION)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_documented(case: Case[Any], api: Api) -> None:
    # Logout revokes the token it is called with: give it one of its own.
    token = api.fresh_token() if case.path == "/api/auth/logout" else api.token
    case.call_and_validate(
        base_url=api.server.url,
        headers={"Authorization": f"Bearer {token}"},
        checks=CHECKS,
        timeout=60,
    )


def test_the_server_serves_the_description_and_it_covers_every_route(api: Api) -> None:
    served = httpx.get(api.server.url + "/openapi.json", timeout=30).json()
    assert served == DESCRIPTION
    assert {
        "/api/auth/status",
        "/api/auth/setup",
        "/api/auth/login",
        "/api/auth/logout",
        "/api/auth/me",
        "/api/services",
        "/api/services/{name}",
        "/api/services/{name}/deploy",
        "/api/services/{name}/stop",
        "/api/services/actions/stop-all",
        "/api/instances",
        "/api/instances/refresh",
        "/api/instances/stop",
        "/api/jobs",
        "/api/jobs/{job_id}",
        "/api/jobs/{job_id}/output",
        "/api/jobs/{job_id}/stream",
        "/api/jobs/{job_id}/cancel",
    } <= set(served["paths"])

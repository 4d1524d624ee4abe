"""The OpenAPI description, told the truth about errors.

Every error answer is `{"detail": "<message>"}` (a 409 from a job request adds
`job_id`), including validation errors, which FastAPI would describe as a list.
The guard middleware and the error handlers answer on every route, so the codes
they can give are described on every operation they can reach.
"""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "properties": {
        "detail": {"type": "string", "title": "Detail"},
        "job_id": {"type": "integer", "title": "Job Id"},
    },
    "required": ["detail"],
}
ERROR_REF = {"$ref": "#/components/schemas/Error"}

# What any /api operation may answer, whatever its own route says.
EVERY_OPERATION = {
    "400": "Malformed request: a body that is not JSON, a NUL in the query string",
    "503": "The server is starting, or the database is busy or unavailable; retry",
}
# What the guard answers to any mutation.
EVERY_MUTATION = {
    "403": "Cross-origin request refused",
    "413": "Request body over CLM_MAX_BODY_BYTES",
    "415": "Request body must be application/json",
}
MUTATING = {"post", "put", "patch", "delete"}


def describe_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Rewrite the generated description in place; returns it."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    components.pop("ValidationError", None)
    components.pop("HTTPValidationError", None)
    for path, operations in schema.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for method, operation in operations.items():
            responses: dict[str, Any] = operation.setdefault("responses", {})
            extra = dict(EVERY_OPERATION)
            if method in MUTATING:
                extra.update(EVERY_MUTATION)
            for code, description in extra.items():
                responses.setdefault(code, {"description": description})
            for code, response in responses.items():
                if code.startswith(("4", "5")):
                    response["content"] = {"application/json": {"schema": ERROR_REF}}
    return schema

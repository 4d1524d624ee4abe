"""Routes of the instances area."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["instances"])

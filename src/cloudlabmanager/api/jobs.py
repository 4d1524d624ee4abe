"""Routes of the jobs area."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["jobs"])

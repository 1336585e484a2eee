"""GET /tags: every tag's metadata with its live value, from the live cache (no database)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from pstg.api.deps import Context
from pstg.api.routers import API_PREFIX
from pstg.api.schemas import TagOut
from pstg.api.security import require
from pstg.auth.roles import Role

router = APIRouter(prefix=API_PREFIX, tags=["tags"], dependencies=[Depends(require(Role.VIEWER))])


@router.get("/tags", response_model=list[TagOut], summary="Tags with their latest value")
async def list_tags(
    context: Context,
    device: Annotated[str | None, Query(description="Only this device's tags.")] = None,
    q: Annotated[
        str | None,
        Query(description="Only tags whose name or description contains this (any case)."),
    ] = None,
) -> list[dict[str, Any]]:
    live = context.live.snapshot()
    needle = None if q is None else q.casefold()
    found: list[dict[str, Any]] = []
    for config in context.config.devices:
        if device is not None and config.id != device:
            continue
        for tag in config.tags:
            if needle is not None and not (
                needle in tag.name.casefold() or needle in tag.description.casefold()
            ):
                continue
            sample = live.get(tag.name)
            found.append(
                {
                    "name": tag.name,
                    "device": config.id,
                    "source": tag.source,
                    "address": tag.address,
                    "type": tag.data_type,
                    "unit": tag.unit,
                    "description": tag.description,
                    "range": tag.range,
                    "writable": tag.writable,
                    "latest": sample,
                }
            )
    found.sort(key=lambda tag: str(tag["name"]))
    return found

"""GET /tags: every tag's metadata with its live value, from the live cache (no database).
The answer is kept as bytes between changes of the live view (`pstg.api.tag_list`)."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import APIRouter, Depends, Query, Request, Response

from pstg.api.routers import API_PREFIX
from pstg.api.schemas import TagOut
from pstg.api.security import require
from pstg.api.tag_list import TagList
from pstg.auth.roles import Role

router = APIRouter(prefix=API_PREFIX, tags=["tags"], dependencies=[Depends(require(Role.VIEWER))])


@router.get("/tags", response_model=list[TagOut], summary="Tags with their latest value")
async def list_tags(
    request: Request,
    device: Annotated[str | None, Query(description="Only this device's tags.")] = None,
    q: Annotated[
        str | None,
        Query(description="Only tags whose name or description contains this (any case)."),
    ] = None,
) -> Response:
    tag_list = cast(TagList, request.app.state.tag_list)
    return Response(await tag_list.body(device, q), media_type="application/json")

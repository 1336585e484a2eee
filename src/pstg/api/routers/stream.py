"""GET /stream: live values, alarms and device states as Server-Sent Events (docs/api.md)."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from pstg.api.deps import Context
from pstg.api.params import unknown_tag
from pstg.api.routers import API_PREFIX
from pstg.api.security import require
from pstg.api.stream.hub import StreamHub, StreamsUnavailable
from pstg.api.stream.response import MEDIA_TYPE, EventStreamResponse
from pstg.auth.roles import Role

MAX_STREAM_TAGS = 500
RETRY_AFTER_S = 5

router = APIRouter(prefix=API_PREFIX, tags=["live"], dependencies=[Depends(require(Role.VIEWER))])


def stream_hub(request: Request) -> StreamHub:
    """The app's hub (`pstg.api.app.create_app` makes it)."""
    return cast(StreamHub, request.app.state.streams)


@router.get(
    "/stream",
    response_class=EventStreamResponse,
    status_code=200,
    summary="Live values, alarms and device states, pushed (Server-Sent Events)",
    responses={
        200: {
            "content": {MEDIA_TYPE: {}},
            "description": "`retry`, a `snapshot` event, then `values`, `alarms` and `devices` "
            "events as things change, and a `: ping` comment every 15 s.",
        },
        503: {"description": "`api.max_streams` streams are open, or the gateway is stopping."},
    },
)
async def stream(
    request: Request,
    context: Context,
    tag: Annotated[
        list[str] | None,
        Query(
            description=f"Only these tags (repeat for several, up to {MAX_STREAM_TAGS}); "
            "default every tag."
        ),
    ] = None,
) -> EventStreamResponse:
    tags = None
    if tag is not None:
        if len(tag) > MAX_STREAM_TAGS:
            raise HTTPException(
                422, f"query parameter 'tag': at most {MAX_STREAM_TAGS} tags, got {len(tag)}"
            )
        index_of = context.live.tags.index_of
        missing = next((name for name in tag if name not in index_of), None)
        if missing is not None:
            raise unknown_tag(missing)
        tags = tuple(sorted({index_of[name] for name in tag}))
    try:
        subscription = stream_hub(request).subscribe(tags)
    except StreamsUnavailable as exc:
        raise HTTPException(503, str(exc), headers={"Retry-After": str(RETRY_AFTER_S)}) from None
    return EventStreamResponse(subscription)

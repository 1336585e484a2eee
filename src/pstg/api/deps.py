"""FastAPI dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Request

from pstg.api.context import ApiContext


async def get_context(request: Request) -> ApiContext:
    """The `ApiContext` the app was created with (stored on `app.state.context`).

    `async` although it awaits nothing: FastAPI runs a plain `def` dependency in a worker
    thread, and two thread switches cost more than the rest of a light request."""
    return cast(ApiContext, request.app.state.context)


Context = Annotated[ApiContext, Depends(get_context)]
"""A router parameter typed `Context` receives the app's ApiContext."""

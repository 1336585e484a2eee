"""FastAPI dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Request

from pstg.api.context import ApiContext


def get_context(request: Request) -> ApiContext:
    """The `ApiContext` the app was created with (stored on `app.state.context`)."""
    return cast(ApiContext, request.app.state.context)


Context = Annotated[ApiContext, Depends(get_context)]
"""A router parameter typed `Context` receives the app's ApiContext."""

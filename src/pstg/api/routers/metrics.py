"""GET /metrics: the Prometheus exposition of the gateway's own health (outside /api/v1, where
Prometheus looks by default; it needs a bearer token like the rest — an API token of a
viewer in the scrape config's `authorization`)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from pstg.api.deps import Context
from pstg.api.security import require
from pstg.auth.roles import Role
from pstg.metrics import CONTENT_TYPE

router = APIRouter(tags=["metrics"], dependencies=[Depends(require(Role.VIEWER))])


@router.get(
    "/metrics",
    response_class=Response,
    summary="Prometheus metrics",
    responses={200: {"content": {CONTENT_TYPE: {}}, "description": "Prometheus text format."}},
)
async def metrics(context: Context) -> Response:
    return Response(content=context.metrics.render(), media_type=CONTENT_TYPE)

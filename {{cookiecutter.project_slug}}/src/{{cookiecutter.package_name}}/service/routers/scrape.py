"""GET /metrics: the Prometheus text format (HTTP requests, predictions, feedback), behind the API key when set."""

from fastapi import APIRouter, Request, Response

from ..prometheus import ServiceMetrics

router = APIRouter(tags=["metrics"])


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    service_metrics: ServiceMetrics = request.app.state.metrics
    body, content_type = service_metrics.exposition()
    return Response(body, media_type=content_type)

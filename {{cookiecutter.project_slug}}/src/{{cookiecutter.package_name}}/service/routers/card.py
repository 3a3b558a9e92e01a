"""GET /model/card: the served version's model card, as Markdown, or as an HTML page for a browser."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, HTTPException, Query, status
from fastapi.responses import HTMLResponse, Response

from ...core.card_page import card_page
from ...io.served_card import served_card
from ..deps import ModelDep, SettingsDep

router = APIRouter(tags=["model"])


class MarkdownResponse(Response):
    """text/markdown (RFC 7763); Starlette adds `charset=utf-8` to a text/* type."""

    media_type = "text/markdown"


RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {"schema": {"type": "string"}}}, "description": "The card (Markdown or HTML)"},
    404: {"description": "The served version has no model card"},
    503: {"description": "No model is loaded"},
}


@router.get("/model/card", response_class=MarkdownResponse, responses=RESPONSES)
def model_card(
    model: ModelDep,
    settings: SettingsDep,
    output: Annotated[
        Literal["markdown", "html"] | None, Query(alias="format", description="Overrides the Accept header")
    ] = None,
    accept: Annotated[str, Header(include_in_schema=False)] = "",
) -> Response:
    """The served version's card, with monitor's latest status when it ran for this version (docs/monitoring.md).

    Markdown by default; HTML with `?format=html` or when the client accepts text/html (a browser).
    """
    found = served_card(settings.monitoring_dir, model.run_id, model.card)
    if found is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"{model.name} v{model.version} has no model card: versions registered before cards existed have none; "
            "retrain (`make pipeline`) to register one with its card",
        )
    # No caching: `monitor` rewrites the card's status after every run.
    headers = {"Cache-Control": "no-store"}
    if output == "html" or (output is None and "text/html" in accept):
        return HTMLResponse(card_page(found.text, f"Model card: {model.name} v{model.version}"), headers=headers)
    return MarkdownResponse(found.text, headers=headers)

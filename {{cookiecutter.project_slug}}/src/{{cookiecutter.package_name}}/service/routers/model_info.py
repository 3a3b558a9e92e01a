"""GET /model: which registry version is served, with its metrics, lineage and signature."""

import orjson
from fastapi import APIRouter

from ..api_schemas import ModelInfo
from ..deps import ModelDep

router = APIRouter(tags=["model"])


@router.get("/model", response_model=ModelInfo)
async def model_info(model: ModelDep) -> ModelInfo:
    # MLflow serialises each part of the signature as a JSON string; clients get it as JSON.
    signature = {k: orjson.loads(v) if isinstance(v, str) else v for k, v in model.signature.items()}
    return ModelInfo(
        name=model.name,
        version=model.version,
        alias=model.alias,
        run_id=model.run_id,
        task=model.task,
        classes=list(model.classes),
        metrics=model.metrics,
        lineage=model.lineage,
        signature=signature,
        loaded_at=model.loaded_at,
    )

"""The memory calculator on the QLoRA page: an htmx form whose results the server computes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.ml.memory import WeightFormat, estimate
from app.web import describe_errors

router = APIRouter(prefix="/tools/memory-calculator", include_in_schema=False)


class MemoryQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    params_billion: float = Field(7, gt=0, le=10_000, description="Base model size, billions of parameters.")
    fmt: WeightFormat = Field("nf4-dq", description="How the frozen base weights are stored.")
    hidden: int = Field(4096, ge=1, le=65_536, description="Hidden size d of the adapted matrices (d x d).")
    layers: int = Field(32, ge=1, le=1_000, description="Transformer layers.")
    rank: int = Field(16, ge=1, le=1_024, description="LoRA rank r.")
    matrices_per_layer: int = Field(4, ge=1, le=16, description="Adapted matrices per layer (q, k, v, o = 4).")


PRESETS = {
    "7b": MemoryQuery(params_billion=7, hidden=4096, layers=32),
    "70b": MemoryQuery(params_billion=70, hidden=8192, layers=80),
}
FORMATS = ("fp32", "bf16", "int8", "nf4", "nf4-dq")


def _render(request: Request, template: str, query: MemoryQuery) -> HTMLResponse:
    rows = {fmt: estimate(**(query.model_dump() | {"fmt": fmt})) for fmt in FORMATS}
    html = request.app.state.site.render(template, query=query, rows=rows, presets=PRESETS, formats=FORMATS)
    return HTMLResponse(html)


@router.get("")
def calculator(request: Request, preset: Annotated[str, Query(pattern="^(7b|70b)$")] = "7b") -> HTMLResponse:
    """The whole calculator, filled in from a preset."""
    return _render(request, "partials/tools/memory-calculator.html", PRESETS[preset])


@router.get("/result")
def result(request: Request) -> HTMLResponse:
    """Only the results table, for the form's live updates; a 422 fragment names each bad field."""
    try:
        query = MemoryQuery.model_validate(dict(request.query_params))
    except ValidationError as error:
        errors = describe_errors(error.errors())
        return HTMLResponse(request.app.state.site.render("partials/tools/memory-errors.html", errors=errors), 422)
    return _render(request, "partials/tools/memory-result.html", query)

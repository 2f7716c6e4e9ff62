"""The memory calculator on the QLoRA page: an htmx form whose results the server computes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.app_state import app_state
from app.ml.memory import WeightFormat, estimate

router = APIRouter(prefix="/tools/memory-calculator", include_in_schema=False)


class MemoryQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    # Each title is the form's label, so an error names the field the reader sees.
    params_billion: float = Field(
        7, gt=0, le=10_000, title="Parameters (billions)", description="Base model size, billions of parameters."
    )
    fmt: WeightFormat = Field(
        "nf4-dq", title="Base weights stored as", description="How the frozen base weights are stored."
    )
    hidden: int = Field(
        4096, ge=1, le=65_536, title="Hidden size", description="Hidden size d of the adapted matrices (d x d)."
    )
    layers: int = Field(32, ge=1, le=1_000, title="Layers", description="Transformer layers.")
    rank: int = Field(16, ge=1, le=1_024, title="LoRA rank", description="LoRA rank r.")
    matrices_per_layer: int = Field(
        4, ge=1, le=16, title="Adapted matrices per layer", description="Adapted matrices per layer (q, k, v, o = 4)."
    )


PRESETS = {
    "7b": MemoryQuery(params_billion=7, hidden=4096, layers=32),
    "70b": MemoryQuery(params_billion=70, hidden=8192, layers=80),
}
FORMATS = ("fp32", "bf16", "int8", "nf4", "nf4-dq")


# pydantic's error types for bounds -> the bound's key in the error's ctx, and its words.
BOUNDS = {
    "greater_than_equal": ("ge", "at least"),
    "greater_than": ("gt", "more than"),
    "less_than_equal": ("le", "at most"),
    "less_than": ("lt", "less than"),
}
KINDS = {
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "literal_error": f"must be one of {', '.join(FORMATS)}",
    "extra_forbidden": "is not a setting of this calculator",
}


def plain_errors(errors: list[Any]) -> list[dict[str, str]]:
    """Validation errors as sentences that name each field by its label ("LoRA rank must be at least 1.")."""
    plain = []
    for issue in errors:
        name = str(issue["loc"][0]) if issue.get("loc") else ""
        field = MemoryQuery.model_fields.get(name)
        title = field.title if field and field.title else name.replace("_", " ")
        bound = BOUNDS.get(issue["type"])
        if bound:
            problem = f"must be {bound[1]} {issue['ctx'][bound[0]]:,}"
        else:
            problem = KINDS.get(issue["type"], issue["msg"][:1].lower() + issue["msg"][1:])
        plain.append({"field": name, "message": f"{title} {problem}."})
    return plain


def _render(request: Request, template: str, query: MemoryQuery) -> HTMLResponse:
    rows = {fmt: estimate(**(query.model_dump() | {"fmt": fmt})) for fmt in FORMATS}
    html = app_state(request.app).site.render(template, query=query, rows=rows, presets=PRESETS, formats=FORMATS)
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
        errors = plain_errors(error.errors())
        return HTMLResponse(app_state(request.app).site.render("partials/tools/memory-errors.html", errors=errors), 422)
    return _render(request, "partials/tools/memory-result.html", query)

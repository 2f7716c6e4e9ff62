"""Every setting is an environment variable `MODELTERMS_<NAME>`; defaults suit a laptop."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MODELTERMS_", frozen=True)

    host: str = Field("127.0.0.1", description="Address the server listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port the server listens on.")
    data_dir: Path = Field(ROOT / "data", description="Run store (SQLite).")
    artifacts_dir: Path = Field(
        ROOT / "artifacts", description="Prepared artifacts (base models, teachers), built by `modelterms prepare`."
    )
    content_dirs: list[Path] = Field(
        default_factory=lambda: [ROOT / "content"],
        description="Markdown term folders, JSON list; a later folder overrides a term of an earlier one.",
    )
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="Where runs train; auto picks CUDA.")
    workers: int = Field(
        default_factory=lambda: os.cpu_count() or 1, ge=1, le=256, description="Training worker processes."
    )
    queue_size: int = Field(32, ge=0, le=10_000, description="Runs that may wait for a worker.")
    max_steps: int = Field(20_000, ge=1, description="Hard cap on steps per run.")
    max_run_seconds: float = Field(120.0, gt=0, description="Wall-time budget per run.")
    idle_cancel_seconds: float = Field(30.0, gt=0, description="Cancel a run no client watched this long.")
    client_timeout_seconds: float = Field(
        10.0,
        gt=0,
        le=3600,
        description="Time a client may take to send a request, or stall reading a response, before it is cut off.",
    )
    keep_runs: int = Field(1000, ge=1, description="Finished runs kept in the store (oldest go first).")
    extra_demo_modules: list[str] = Field(default_factory=list, description="Extra demo modules (tests).")


@lru_cache
def get_settings() -> Settings:
    return Settings()

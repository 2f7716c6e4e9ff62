"""Every setting is an environment variable `MODELTERMS_<NAME>`; defaults suit a laptop."""

from __future__ import annotations

import ipaddress
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


EMBED_ORIGIN = re.compile(r"https?://(\*\.)?[A-Za-z0-9.-]+(:\d{1,5})?")


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
    runs_per_worker: int = Field(
        128, ge=1, le=4096, description="Runs one worker process holds at once, their steps interleaved."
    )
    runs_per_client: int = Field(4, ge=1, le=10_000, description="Active runs one client (address) may have.")
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses or networks (JSON list) of reverse proxies whose X-Forwarded-For names the client.",
    )
    queue_size: int = Field(32, ge=0, le=10_000, description="Runs that may wait when every slot is taken.")
    max_steps: int = Field(20_000, ge=1, description="Hard cap on steps per run.")
    max_run_seconds: float = Field(
        120.0, gt=0, description="Compute budget per run: CPU seconds of its own steps (waiting is free)."
    )
    max_run_wall_seconds: float = Field(1800.0, gt=0, description="Wall-time limit per run, paused time included.")
    max_step_seconds: float = Field(
        10.0, gt=0, description="A single step running longer gets its worker killed and replaced."
    )
    idle_cancel_seconds: float = Field(30.0, gt=0, description="Cancel a run no client watched this long.")
    client_timeout_seconds: float = Field(
        10.0,
        gt=0,
        le=3600,
        description="Time a client may take to send a request, or stall reading a response, before it is cut off.",
    )
    keep_runs: int = Field(1000, ge=1, description="Finished runs kept in the store (oldest go first).")
    keep_runs_per_client: int = Field(
        250,
        ge=1,
        description="Of the kept runs, at most this many of one client (an address, or a student of a class): "
        "its own oldest go first, so one client cannot push everyone else's runs out.",
    )
    save_progress_seconds: float = Field(
        5.0,
        gt=0,
        le=3600,
        description="How often a running run's new events are saved (embedded backend), so a server that crashes "
        "keeps its curve up to then.",
    )
    extra_demo_modules: list[str] = Field(default_factory=list, description="Extra demo modules (tests).")
    embed_origins: list[str] = Field(
        default_factory=list,
        description='Origins (JSON list, e.g. ["https://course.example.org"], or ["*"]) that may frame /embed/ pages.',
    )

    @field_validator("embed_origins")
    @classmethod
    def _origins(cls, values: list[str]) -> list[str]:
        # Each value goes into a CSP header as is: only a bare origin (or *) may, never a policy.
        for value in values:
            if not (value == "*" or EMBED_ORIGIN.fullmatch(value)):
                raise ValueError(f"{value!r} is not an origin like https://example.org (or *)")
        return values

    classes: Literal["open", "token"] = Field(
        "open", description="Who may create a class: anyone (open), or whoever sends MODELTERMS_ADMIN_TOKEN (token)."
    )
    admin_token: str | None = Field(
        None, min_length=16, description="The bearer token that creates classes when MODELTERMS_CLASSES is token."
    )
    class_hours: float = Field(12.0, gt=0, le=24 * 30, description="How long a class takes runs and joins.")
    runs_per_student: int = Field(
        2, ge=1, le=10_000, description="Active runs one student of a class may have (instead of per address)."
    )
    runs_per_class: int = Field(64, ge=1, le=100_000, description="Active runs a whole class may have at once.")

    redis_url: str | None = Field(
        None,
        description="Redis server (redis://host:6379/0) for web replicas and `modelterms worker`s; unset: embedded.",
    )
    redis_prefix: str = Field(
        "modelterms", min_length=1, pattern=r"^[A-Za-z0-9_.-]+$", description="Namespace of this site's Redis keys."
    )
    heartbeat_seconds: float = Field(
        1.0, gt=0, le=60, description="How often a worker says it is alive; silent for 3 periods: dead, replaced."
    )
    control_ack_seconds: float = Field(
        2.0,
        gt=0,
        le=60,
        description="How long a live change waits for its worker to confirm it; then it is answered as due next step.",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, values: list[str]) -> list[str]:
        for value in values:
            try:
                ipaddress.ip_network(value, strict=False)
            except ValueError:
                raise ValueError(f"{value!r} is not an IP address or network (e.g. 10.0.0.1 or 10.0.0.0/8)") from None
        return values

    @model_validator(mode="after")
    def _class_creation_has_its_token(self) -> Settings:
        if self.classes == "token" and not self.admin_token:
            raise ValueError("MODELTERMS_CLASSES=token needs MODELTERMS_ADMIN_TOKEN (16 characters or more)")
        return self

    def is_trusted_proxy(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in ipaddress.ip_network(n, strict=False) for n in self.trusted_proxies)


@lru_cache
def get_settings() -> Settings:
    return Settings()

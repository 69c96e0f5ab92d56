"""Settings, read from `P2P_*` environment variables (pydantic-settings)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_WEBHOOK_SECRET = "whsec_cDJwLXNhbmRib3gtZGV2ZWxvcG1lbnQta2V5LTAwMDE="


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="P2P_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    data_dir: Path = Field(default=Path(".p2p-data"),
                           description="Local folder for the embedded database, keys and blobs.")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default SQLite in data_dir.")
    redis_url: str | None = Field(default=None, description="Redis URL; without it a Ray actor holds the KV store.")
    topology: Literal["full", "compact"] = "full"
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    dashboard_port: int = 8265

    access_token_ttl_s: int = 300
    refresh_token_ttl_s: int = 30 * 24 * 3600
    mfa_challenge_ttl_s: int = 300
    login_window_s: int = 900
    login_max_failures_per_account: int = 5
    login_max_attempts_per_ip: int = 30
    idempotency_ttl_s: int = 24 * 3600
    permission_cache_s: float = 5.0
    event_poll_s: float = 0.2
    default_roles: tuple[str, ...] = ("sender",)

    capacity_shards: int = Field(default=4, ge=1, le=256,
                                 description="Trip-capacity shard actors (trip-capacity-0..N-1).")
    capacity_sweep_s: float = Field(default=2.0, gt=0, description="How often a capacity shard expires due holds.")
    custody_shards: int = Field(default=2, ge=1, le=64, description="How many custody shards own the shipments' "
                                "chains of custody (named actors custody-0..N-1).")
    handoff_radius_m: int = Field(default=30_000, ge=50, description="How far (metres) a handoff scan may be from "
                                  "the planned place. Addresses resolve to their city or airport, hence city-sized.")
    custody_stuck_grace_s: int = Field(default=6 * 3600, ge=0, description="A shipment is stuck when its next "
                                       "handoff is this late past its planned time.")
    shard_batch_max: int = Field(default=512, ge=1, le=10_000, description="Group commit: at most this many "
                                 "calls' writes go to the database in one transaction.")
    shard_batch_wait_s: float = Field(default=0.0, ge=0, le=1.0, description="Group commit: how long a shard "
                                      "waits for more calls before committing a batch smaller than the "
                                      "maximum (0: commit at once; batches still form while a commit is in flight).")
    qr_ttl_s: int = Field(default=86400, ge=1, description="How long a generated QR code lives at most.")
    booking_hold_ttl_s: int = Field(default=900, ge=5,
                                    description="How long a booking's capacity holds live unconfirmed.")
    min_connection_min: int = Field(default=60, ge=0, description="Minimum buffer between two legs of an itinerary.")
    route_graph_refresh_s: float = Field(default=1.0, ge=0, description="A route planner replica rebuilds its "
                                         "graph at most this often; searches may be this much behind.")

    prohibited_items_file: Path | None = Field(default=None, description="JSON list of prohibited-item rules "
                                               "for shipments; default the shipped deployments/shipments/data/"
                                               "prohibited.json.")

    # -- money --------------------------------------------------------------------------
    platform_fee_bps: int = Field(default=1000, ge=0, le=5000, description="The platform's fee on a booking, in "
                                  "basis points of the carriers' prices (1000 = 10%), rounded half up.")
    public_url: str | None = Field(default=None, description="The platform's public base URL (3-D Secure "
                                   "return pages, webhook targets); default http://<http_host>:<http_port>.")
    payment_webhook_secret: str = Field(default=DEV_WEBHOOK_SECRET,
                                        description="Standard Webhooks secret (whsec_<base64>) shared with the "
                                        "payment processor; the default is for development and tests only.")
    payment_webhook_tolerance_s: int = Field(default=300, ge=1, description="A signed webhook older or newer "
                                             "than this is refused (replay protection).")
    payment_action_ttl_s: int = Field(default=3600, ge=60, description="A payment waiting for 3-D Secure "
                                      "this long is canceled as abandoned.")
    payout_min_minor: int = Field(default=100, ge=1, description="The smallest payout a batch makes, in minor "
                                  "units of the payout's currency.")

    @model_validator(mode="after")
    def _no_development_secrets_in_production(self) -> "Settings":
        if self.env == "production" and self.payment_webhook_secret == DEV_WEBHOOK_SECRET:
            raise ValueError("P2P_PAYMENT_WEBHOOK_SECRET must be set in production (the default is public)")
        return self

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'p2p.db').resolve()}"

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.http_host}:{self.http_port}").rstrip("/")

    def ensure_data_dir(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir


@lru_cache
def get_settings() -> Settings:
    return Settings()

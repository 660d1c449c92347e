"""Settings, read from the environment (``STOA_*``) with embedded defaults.

With nothing set, Stoa runs on one SQLite file under ``./stoa-data`` and
serves http://127.0.0.1:8000. One setting, ``STOA_DATABASE_URL``, moves the
store to PostgreSQL (``postgresql+asyncpg://...``).
"""

from __future__ import annotations

import ipaddress
from functools import cached_property
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STOA_", env_file=None, extra="ignore")

    data_dir: Path = Field(default=Path("stoa-data"), description="Where the embedded store and media live")
    database_url: str = Field(default="", description="SQLAlchemy URL; empty means SQLite in data_dir")
    region: str = Field(default="local", description="Name of this deployment's default region")
    regions: str = Field(default="", description="All regions, comma-separated (e.g. us,eu); empty: just `region`")
    region_database_urls: str = Field(default="", description="Per-region URLs: 'us=postgresql+asyncpg://...;eu=...'")
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = Field(default="", description="External base URL; defaults to http://host:port")
    instance_title: str = "Stoa"
    instance_description: str = "An open public square: open algorithms, your data in your region."
    contact_email: str = "admin@stoa.invalid"
    registrations_open: bool = True

    # Limits (Mastodon's defaults).
    max_status_chars: int = 500
    max_request_bytes: int = 16 * 1024 * 1024
    max_avatar_bytes: int = 8 * 1024 * 1024
    max_image_bytes: int = 10 * 1024 * 1024
    max_video_bytes: int = Field(default=500 * 1024 * 1024, description="Largest video upload")
    max_video_seconds: float = Field(default=180.0, gt=0, description="Longest video upload")
    video_max_lines: int = Field(default=720, description="Videos are served at most 720p (or 1080)")

    # What the HTTP server accepts from one connection (src/stoa/server.py, docs/security.md).
    max_header_bytes: int = Field(default=64 * 1024, ge=1024, description="Request line and headers, in all")
    max_headers: int = Field(default=100, ge=10, description="Headers in one request")
    max_request_line_bytes: int = Field(default=8 * 1024, ge=256, description="Method, path and query string")
    header_timeout_seconds: float = Field(default=10.0, gt=0,
                                          description="A request's line and headers must arrive within this")
    keep_alive_seconds: int = Field(default=15, ge=1, description="An idle connection is closed after this")
    body_timeout_seconds: float = Field(default=15.0, gt=0,
                                        description="Longest silence of a client sending a body or reading an answer")
    min_body_bytes_per_second: float = Field(default=1024.0, ge=0,
                                             description="Slowest average body after the first body timeout")
    max_connections: int = Field(default=1000, ge=1, description="Open connections per server process")
    ws_max_message_bytes: int = Field(default=64 * 1024, ge=1024, description="Largest WebSocket message accepted")

    # Media storage: local files under data_dir/media/<region>, or an S3-compatible bucket per region.
    media_storage: str = Field(default="local", pattern="^(local|s3)$")
    s3_bucket: str = Field(default="stoa-{region}", description="Bucket name; {region} is replaced")
    s3_endpoint_url: str = Field(default="", description="For MinIO, Ceph, Garage...; empty means AWS")
    s3_region: str = ""
    s3_access_key_id: str = ""
    s3_secret_access_key: str = ""
    media_url_ttl_seconds: int = Field(default=3600, ge=60, description="Lifetime of signed media URLs")
    media_job_lease_seconds: float = Field(default=60.0, gt=0, description="A silent transcode is retried after")
    media_job_timeout_seconds: float = Field(default=900.0, gt=0, description="A transcode running longer is killed")
    media_job_attempts: int = Field(default=3, ge=1, description="Tries before a media job is marked failed")
    rate_limit_per_token: int = Field(default=300, description="Requests per window per access token")
    rate_limit_per_ip: int = Field(default=7500, description="Requests per window per client IP")
    rate_limit_window_seconds: int = 300
    rate_limit_enabled: bool = True
    redis_url: str = Field(default="", description="redis://... to share rate limits between server processes")
    trusted_proxies: str = Field(default="", description="Reverse proxies (IPs or CIDRs, comma-separated) whose "
                                 "X-Forwarded-For names the client; empty: trust none, the peer is the client")

    # Event consumers run inside `stoa serve` unless disabled (then `stoa worker` runs them).
    run_workers: bool = True
    worker_poll_seconds: float = 0.5
    unattached_media_hours: float = Field(default=24.0, gt=0, description="Uploads never attached are removed after")
    outbox_retention_hours: float = Field(default=168.0, ge=0, description="Events every reader has passed are "
                                          "kept this long (for replays and debugging), then pruned")
    home_feed_depth: int = Field(default=800, ge=40, description="Entries kept per home timeline")
    recsys_retrain_hours: float = Field(default=24.0, ge=0,
                                        description="For You's model is retrained this often by the worker (0: never)")
    similar_index_posts: int = Field(default=50_000, ge=100,
                                     description="Newest public posts in For You's content-similarity index")
    stream_heartbeat_seconds: float = Field(default=15.0, description="Idle streams get a comment line this often")
    log_level: str = "info"
    log_json: bool = False

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_parse(cls, value: str) -> str:
        """A typo in the proxy list is refused at startup, not discovered as every request failing."""
        for item in value.split(","):
            if item.strip():
                try:
                    ipaddress.ip_network(item.strip(), strict=False)
                except ValueError as exc:
                    raise ValueError(f"{item.strip()!r} is not an IP address or network") from exc
        return value

    @property
    def region_names(self) -> list[str]:
        """Every region of the deployment, the default first."""
        names = [n.strip() for n in self.regions.split(",") if n.strip()] or [self.region]
        if self.region not in names:
            raise ValueError(f"STOA_REGION={self.region!r} is not among STOA_REGIONS={self.regions!r}")
        return [self.region] + [n for n in names if n != self.region]

    def database_url_for(self, region: str) -> str:
        """A region's store: its own URL, or STOA_DATABASE_URL with {region} filled in, or its own SQLite file."""
        explicit = dict(item.strip().split("=", 1) for item in self.region_database_urls.split(";") if "=" in item)
        if region in explicit:
            return explicit[region].strip()
        if self.database_url:
            if "{region}" in self.database_url:
                return self.database_url.replace("{region}", region)
            if len(self.region_names) > 1:
                raise ValueError("With several regions, STOA_DATABASE_URL must contain {region} (each region has "
                                 "its own database) or STOA_REGION_DATABASE_URLS must name each region's URL")
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / f'{region}.sqlite3').resolve()}"

    @cached_property
    def resolved_database_url(self) -> str:
        """The default region's store."""
        return self.database_url_for(self.region)

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def domain(self) -> str:
        return self.base_url.split("://", 1)[1]

    @property
    def media_root(self) -> Path:
        return self.data_dir / "media" / self.region


def load_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]

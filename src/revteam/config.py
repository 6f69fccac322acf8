"""One documented Settings object (environment prefix ``REVTEAM_``).

Every field carries a description; ``tests/docs/test_docs.py`` checks that each one has a heading in
``docs/settings.md``. Secrets refuse the development placeholder outside ``env=development``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET_PLACEHOLDER = "dev-only-change-me"
ENVIRONMENTS = ("development", "test", "production")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REVTEAM_", extra="ignore")

    env: str = Field(
        "development",
        description="Deployment kind: `development`, `test` or `production` (any case; anything else, e.g. "
        "`prod`, is refused at start). Outside development and test the secret key must be set to a real value.",
    )
    database_url: str = Field(
        "sqlite:///revteam.db",
        description="SQLAlchemy URL of the operational database. Default: a SQLite file `revteam.db` in "
        "the working directory. PostgreSQL: `postgresql+psycopg://user@host:5432/dbname`.",
    )
    secret_key: str = Field(
        DEV_SECRET_PLACEHOLDER,
        description="Key that signs session cookies and CSRF tokens. Generate one with "
        "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`.",
    )
    session_hours: int = Field(12, ge=1, description="How long a web session lasts without activity, in hours.")
    secure_cookies: bool | None = Field(
        None, description="Mark the session and log-in cookies `Secure` (sent over HTTPS only). Unset: on when "
        "`REVTEAM_ENV=production`, off otherwise; set it to `true` for any HTTPS deployment."
    )
    trusted_proxies: str = Field(
        "", description="Addresses of the reverse proxies allowed to set `X-Forwarded-For` and `X-Forwarded-Proto`, "
        "comma-separated (IPs or networks such as `10.0.0.0/8`; `*` trusts every sender, only when nothing else can "
        "reach the app). Empty: the headers are ignored and the client address is the connection's."
    )
    hsts_seconds: int = Field(
        31_536_000, ge=0, description="`max-age` of the `Strict-Transport-Security` header, sent in production and on "
        "every HTTPS request (as seen through a trusted proxy). 0: no HSTS header."
    )
    hsts_include_subdomains: bool = Field(
        False, description="Add `includeSubDomains` to the `Strict-Transport-Security` header, so browsers also "
        "refuse plain HTTP on every subdomain of revteam's host. Off by default: turn it on only when every "
        "subdomain is served over HTTPS."
    )
    token_days: int = Field(
        90, ge=1, le=366, description="Default lifetime of a new API token, in days (each token may choose 1-366)."
    )
    login_failures_per_account: int = Field(
        5, ge=1, description="Failed log-ins for one account from one client address before that address must wait "
        "for that account (1 minute, doubling to 1 hour); other addresses can still log in to it."
    )
    login_failures_per_address: int = Field(
        20, ge=1, description="Failed log-ins from one client address before it must wait (same backoff)."
    )
    login_block_minutes: int = Field(
        1, ge=1, le=60, description="First wait after too many failed log-ins, in minutes; each further failure "
        "doubles it, up to 60."
    )
    webhook_allow_hosts: str = Field(
        "", description="Hosts a webhook or chat address may point to although they resolve to a private, loopback, "
        "link-local or otherwise non-public address, comma-separated (host names, IPs or networks such as "
        "`10.1.0.0/16`). Empty: such addresses are refused when saved and again when sending."
    )
    host: str = Field("127.0.0.1", description="Address `revteam serve` listens on.")
    port: int = Field(8000, description="Port `revteam serve` listens on.")
    import_batch_size: int = Field(
        5000, ge=1, description="Rows validated and written per batch by importers (progress bar step)."
    )
    max_import_line_bytes: int = Field(
        1_000_000,
        ge=1024,
        description="Longest line an import file may contain, in bytes; longer lines are rejected with an "
        "error instead of being read into memory.",
    )
    max_upload_mb: int = Field(200, ge=1, description="Largest file accepted by the web import page, in MiB.")
    page_size: int = Field(50, ge=5, le=500, description="Rows per page in web lists.")
    demo_seed: int = Field(20261125, description="Seed of the demo company generator; same seed, same company.")
    base_url: str = Field("http://127.0.0.1:8000", description="Public address of the web app, used in links inside notifications.")
    smtp_url: str = Field(
        "",
        description="Apprise e-mail URL of the outgoing mail server, without recipients, e.g. "
        "`mailtos://user:password@smtp.example.com:587?from=revteam@example.com`. Empty: e-mail is not sent "
        "(messages wait in the outbox).",
    )
    worker_interval_seconds: float = Field(
        30.0, gt=0, description="How often the worker ticks SLA clocks and drains the outbox, in seconds."
    )
    run_worker_in_serve: bool = Field(
        True, description="Run the worker inside `revteam serve` (turn off when a separate `revteam worker` runs)."
    )
    outbox_max_attempts: int = Field(8, ge=1, description="Delivery attempts per message before it is marked failed.")
    outbox_lease_seconds: int = Field(
        300, ge=10, description="How long a worker owns a claimed message; after that a crashed worker's claim is retried."
    )
    analytics_engine: str = Field(
        "duckdb", description="Engine that runs the analytics: `duckdb` (in process) or `spark` (needs `revteam[spark]`)."
    )
    spark_master: str = Field(
        "local[2]", description="Where Spark runs when the analytics engine is `spark`: `local[N]` (in this process, "
        "N threads), `spark://host:7077` (a standalone cluster), `yarn` or `k8s://https://host:443`. What each needs "
        "is in [scale.md](scale.md)."
    )
    spark_remote: str = Field(
        "", description="A Spark Connect server, e.g. `sc://host:15002`; when set it is used instead of "
        "`REVTEAM_SPARK_MASTER` (needs `pip install 'pyspark[connect]'`). Empty: no Spark Connect."
    )
    spark_conf: dict[str, str] = Field(
        {}, description="More Spark properties, as a JSON object, e.g. `{\"spark.executor.memory\": \"2g\", "
        "\"spark.sql.shuffle.partitions\": \"64\"}`. They override revteam's defaults (time zone UTC, 4 shuffle "
        "partitions, Arrow transfers; in local mode the driver bound to 127.0.0.1 and no UI). A cluster whose "
        "executors call the driver back needs `spark.driver.host` set to an address they can reach."
    )
    analytics_seed: int = Field(
        0, ge=0, description="Seed of every random draw of the analytics desk that a question does not seed itself: "
        "the forecast's simulated futures and sampled Shapley attribution (many keys, e.g. content grain). The "
        "pages, the JSON API and the CLI use it, so the same data give the same numbers everywhere; `--seed` on a "
        "command and `?seed=` on the API override it for one question."
    )
    warm_analytics: bool = Field(
        True, description="Compute the analytics pages' default answers in a background thread when the web app "
        "starts and again after the data changes, so the pages answer from memory (see docs/web.md)."
    )
    warm_interval_seconds: float = Field(
        5.0, gt=0, description="How often the warm-up thread checks whether the data changed, in seconds."
    )
    keep_snapshot: bool = Field(
        True, description="Keep the analytics snapshot (Arrow files) between starts, so a restarted server reads "
        "only the rows written since it was kept instead of every table (see docs/architecture.md)."
    )
    snapshot_dir: str = Field(
        "", description="Folder of the kept analytics snapshot (one subfolder per database). Empty: beside a "
        "SQLite file (`revteam.db.snapshot/`), else `$XDG_CACHE_HOME/revteam/snapshots` (`~/.cache`)."
    )
    digest_hour: int = Field(8, ge=0, le=23, description="Local hour (SLA time zone) at which the daily digest of unworked leads is sent.")
    privacy_ledger: str = Field(
        "", description="File, kept apart from the database and its backups, to which every erasure and every lifted "
        "erasure appends the person's hashed identity (one JSON line each). After restoring a backup run `revteam "
        "privacy reapply` with it, so nobody erased since the backup comes back (see docs/backup.md). Empty: no "
        "ledger; export the tombstones with `revteam privacy tombstones export` after erasing."
    )

    @field_validator("env", mode="before")
    @classmethod
    def _known_environment(cls, value: object) -> str:
        text = str(value).strip().lower()
        if text not in ENVIRONMENTS:
            raise ValueError(f"REVTEAM_ENV={value!r} is not a known environment; use one of "
                             f"{', '.join(ENVIRONMENTS)} (a misspelt production would leave cookies without "
                             "Secure and HSTS off).")
        return text

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        if self.env != "development" and self.env != "test" and self.secret_key == DEV_SECRET_PLACEHOLDER:
            raise ValueError(
                "REVTEAM_SECRET_KEY is the development placeholder; set a real secret for env="
                f"{self.env!r} (python -c 'import secrets; print(secrets.token_urlsafe(32))')."
            )
        if self.secure_cookies is None:
            self.secure_cookies = self.env == "production"
        return self

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite:
            return None
        path = self.database_url.split("///", 1)[-1]
        return None if path in ("", ":memory:") else Path(path)


@lru_cache
def get_settings() -> Settings:
    return Settings()

"""One settings object, read from the environment once, so every layer agrees on paths and URLs."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _default_db_url() -> str:
    return f"sqlite:///{ROOT / 'var' / 'ecvet.sqlite3'}"


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=lambda: os.environ.get("DATABASE_URL") or _default_db_url())
    forms_dir: Path = field(default_factory=lambda: Path(os.environ.get("ECVET_FORMS_DIR", ROOT / "forms")))
    processes_dir: Path = field(
        default_factory=lambda: Path(os.environ.get("ECVET_PROCESSES_DIR", ROOT / "processes"))
    )
    script_time_limit: float = field(
        default_factory=lambda: float(os.environ.get("ECVET_SCRIPT_TIME_LIMIT", "1.0"))
    )
    #: Evaluator processes for scripts and expressions (engine.sandbox.pool), per server or worker process.
    script_evaluators: int = field(default_factory=lambda: int(os.environ.get("ECVET_SCRIPT_EVALUATORS", "2")))
    #: Address-space limit of each evaluator process (RLIMIT_AS), in MiB.
    script_memory_mb: int = field(default_factory=lambda: int(os.environ.get("ECVET_SCRIPT_MEMORY_MB", "512")))
    #: Largest task data a script may leave (and expression result), in characters of JSON as stored.
    script_max_data_bytes: int = field(
        default_factory=lambda: int(os.environ.get("ECVET_SCRIPT_MAX_DATA_BYTES", str(1024 * 1024)))
    )
    max_bundle_bytes: int = 20_000_000
    # A JSON request body larger than this is refused (413) before it is parsed.
    json_max_bytes: int = field(default_factory=lambda: int(os.environ.get("ECVET_JSON_MAX_BYTES", "1048576")))
    token_ttl_days: int = field(default_factory=lambda: int(os.environ.get("ECVET_TOKEN_TTL_DAYS", "30")))


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit overrides (tests, CLI flags)."""
    base = Settings()
    if not overrides:
        return base
    values = {**base.__dict__, **overrides}
    return Settings(**values)  # type: ignore[arg-type]

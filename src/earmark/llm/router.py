"""Routing: which provider and upstream model answers a requested model name.

Routes come from a YAML/JSON file (``EARMARK_LLM_ROUTES_FILE``) and then from
``EARMARK_LLM_ROUTES`` (comma-separated ``pattern=provider[:upstream-model]``); the first
route whose glob pattern matches the requested model wins. The file may name a
``default`` route, tried last. With nothing configured every model goes to the bundled
local model (``*=local``), so the gateway works offline out of the box.

A route whose credentials variable is not set (``ANTHROPIC_API_KEY`` for ``anthropic``, or
any ``api_key_env`` a route names) is skipped, so ``claude-*=anthropic,*=local`` reaches
Anthropic when the key is set and the local model otherwise; when no later route
matches, the error names the missing variable.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import yaml

from earmark.config import LLMSettings
from earmark.errors import InputError, NotFoundError
from earmark.llm.base import Provider, ProviderConfig

__all__ = [
    "PROVIDERS",
    "ProviderKind",
    "Resolved",
    "Route",
    "Router",
    "load_routes_file",
    "parse_routes",
    "provider_names",
    "register_provider",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProviderKind:
    """A kind of LLM provider routes can name (``claude-*=anthropic``).

    factory: builds the provider from its resolved config.
    configure: fills the kind-specific part of the config (base URL, model file) from the
        route and the settings.
    key_env: the environment variable holding its API key by default.
    key_required: ``"always"`` (a route to it is skipped while the key is unset),
        ``"when_named"`` (only when the route names its own ``api_key_env``: local
        OpenAI-compatible servers need none) or ``"never"``.
    """

    factory: Callable[[ProviderConfig], Provider]
    configure: Callable[[ProviderConfig, Route, LLMSettings], ProviderConfig]
    key_env: str | None = None
    key_required: Literal["always", "when_named", "never"] = "never"


_KINDS: dict[str, ProviderKind] = {}


def register_provider(name: str, kind: ProviderKind) -> None:
    """Make ``name`` a provider that routes can name."""
    _KINDS[name] = kind


def provider_names() -> tuple[str, ...]:
    """The registered provider kinds, in registration order."""
    return tuple(_KINDS)


_BUNDLED_ALIASES = frozenset({"", "bundled", "default", "smollm2", "smollm2-135m-instruct"})
_HOW_TO = (
    "configure a route with EARMARK_LLM_ROUTES='pattern=provider[:upstream-model]' "
    "(comma-separated, first match wins, e.g. 'claude-*=anthropic,gpt-*=openai,*=local') "
    "or a routes file in EARMARK_LLM_ROUTES_FILE"
)


@dataclass(frozen=True)
class Route:
    """One routing rule.

    pattern: a glob matched against the requested model name (``claude-*``, ``*``).
    provider: ``openai``, ``anthropic`` or ``local``.
    upstream_model: the model name sent upstream (``None`` = the requested name); for
        ``local``, a GGUF path, or ``None``/``smollm2`` for the bundled model.
    base_url / api_key_env: where and with which credentials variable (``None`` = defaults).
    context_length: the model's context window in tokens (for the context check).
    timeout_s: per-request timeout (``None`` = ``EARMARK_LLM_TIMEOUT_S``).
    """

    pattern: str
    provider: str
    upstream_model: str | None = None
    base_url: str | None = None
    api_key_env: str | None = None
    context_length: int | None = None
    timeout_s: float | None = None

    def __post_init__(self) -> None:
        if self.provider not in _KINDS:
            raise InputError(
                f"LLM route {self.pattern!r}: unknown provider {self.provider!r} "
                f"(use one of {', '.join(_KINDS)})"
            )
        if not self.pattern:
            raise InputError("LLM route: the model pattern is empty")

    def matches(self, model: str) -> bool:
        """Whether this route's glob matches ``model`` (case-sensitive)."""
        return fnmatch.fnmatchcase(model, self.pattern)

    @property
    def key_env(self) -> str | None:
        """The environment variable that holds this route's API key."""
        return self.api_key_env or _KINDS[self.provider].key_env

    def missing_key(self) -> str | None:
        """The variable this route needs but that is unset, else ``None``.

        ``anthropic`` always needs a key; ``openai`` needs one only when the route names
        ``api_key_env`` (local OpenAI-compatible servers need none).
        """
        required = _KINDS[self.provider].key_required
        needs = required == "always" or (required == "when_named" and self.api_key_env is not None)
        env = self.key_env
        if needs and env and not os.environ.get(env):
            return env
        return None

    def describe(self) -> str:
        """``pattern=provider[:upstream]`` as in ``EARMARK_LLM_ROUTES``."""
        tail = f":{self.upstream_model}" if self.upstream_model else ""
        return f"{self.pattern}={self.provider}{tail}"


@dataclass(frozen=True)
class Resolved:
    """The outcome of routing one model name."""

    model: str
    route: Route
    provider: Provider
    upstream_model: str


def parse_routes(spec: str) -> list[Route]:
    """Parse ``EARMARK_LLM_ROUTES``: ``pattern=provider[:upstream-model]``, comma-separated."""
    routes = []
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        pattern, sep, target = item.partition("=")
        if not sep or not target.strip():
            raise InputError(
                f"EARMARK_LLM_ROUTES: {item!r} is not 'pattern=provider[:upstream-model]'"
            )
        provider, _, upstream = target.strip().partition(":")
        routes.append(Route(pattern.strip(), provider.strip(), upstream.strip() or None))
    return routes


def _route_from_mapping(raw: Mapping[str, Any], where: str) -> Route:
    known = {"pattern", "model", "provider", "upstream_model", "base_url", "api_key_env",
             "context_length", "timeout_s"}  # fmt: skip
    unknown = set(raw) - known
    if unknown:
        raise InputError(f"{where}: unknown keys {sorted(unknown)} (known: {sorted(known)})")
    pattern = raw.get("pattern", raw.get("model"))
    provider = raw.get("provider")
    if not isinstance(pattern, str) or not isinstance(provider, str):
        raise InputError(f"{where}: needs 'pattern' (or 'model') and 'provider' strings")
    provider, _, inline = provider.partition(":")
    ctx = raw.get("context_length")
    timeout = raw.get("timeout_s")
    return Route(
        pattern=pattern,
        provider=provider,
        upstream_model=raw.get("upstream_model") or inline or None,
        base_url=raw.get("base_url"),
        api_key_env=raw.get("api_key_env"),
        context_length=int(ctx) if ctx is not None else None,
        timeout_s=float(timeout) if timeout is not None else None,
    )


def load_routes_file(path: Path) -> tuple[list[Route], Route | None]:
    """Read a routes file: ``{"routes": [...], "default": ...}`` in YAML or JSON.

    Each route is a mapping with ``pattern`` (or ``model``), ``provider`` and optional
    ``upstream_model``, ``base_url``, ``api_key_env``, ``context_length``, ``timeout_s``.
    ``default`` is such a mapping without a pattern, or a ``provider[:upstream]`` string.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"LLM routes file {path}: cannot read: {exc.strerror}") from exc
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"LLM routes file {path}: not valid YAML/JSON: {exc}") from exc
    if isinstance(data, list):
        data = {"routes": data}
    if not isinstance(data, dict):
        raise InputError(f"LLM routes file {path}: expected a mapping with 'routes'")
    raw_routes = data.get("routes") or []
    if not isinstance(raw_routes, list):
        raise InputError(f"LLM routes file {path}: 'routes' must be a list")
    routes = []
    for i, raw in enumerate(raw_routes):
        if not isinstance(raw, dict):
            raise InputError(f"LLM routes file {path}: route {i + 1} is not a mapping")
        routes.append(_route_from_mapping(raw, f"LLM routes file {path}, route {i + 1}"))
    default = data.get("default")
    default_route: Route | None = None
    if isinstance(default, str):
        provider, _, upstream = default.partition(":")
        default_route = Route("*", provider, upstream or None)
    elif isinstance(default, dict):
        default_route = _route_from_mapping({"pattern": "*", **default}, f"{path}: default")
    elif default is not None:
        raise InputError(f"LLM routes file {path}: 'default' must be a string or a mapping")
    return routes, default_route


class Router:
    """Resolves model names to providers; providers are created once and reused."""

    def __init__(
        self,
        routes: Sequence[Route],
        settings: LLMSettings | None = None,
        default: Route | None = None,
    ) -> None:
        self.settings = settings or LLMSettings()
        self.routes: tuple[Route, ...] = tuple(routes)
        self.default = default
        if not self.routes and default is None:
            self.default = Route("*", "local")
        self._providers: dict[tuple[object, ...], Provider] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: LLMSettings | None = None) -> Router:
        """Routes from ``EARMARK_LLM_ROUTES_FILE`` then ``EARMARK_LLM_ROUTES``."""
        settings = settings or LLMSettings()
        routes: list[Route] = []
        default = None
        if settings.llm_routes_file is not None:
            routes, default = load_routes_file(settings.llm_routes_file)
        routes += parse_routes(settings.llm_routes)
        return cls(routes, settings, default)

    @property
    def all_routes(self) -> tuple[Route, ...]:
        """The routes in the order they are tried, the default last."""
        return self.routes + ((self.default,) if self.default is not None else ())

    def resolve(self, model: str) -> Resolved:
        """The provider and upstream model for ``model``.

        Raises :class:`NotFoundError` (404) when no usable route matches, saying how to
        configure one.
        """
        if not model:
            raise InputError("'model' is required")
        skipped: list[str] = []
        for route in self.all_routes:
            if not route.matches(model):
                continue
            missing = route.missing_key()
            if missing is not None:
                skipped.append(f"{route.describe()} (needs {missing}, which is not set)")
                continue
            upstream = route.upstream_model or model
            return Resolved(model, route, self.provider_for(route), upstream)
        if skipped:
            raise NotFoundError(
                f"model {model!r} matches only routes without credentials: "
                f"{'; '.join(skipped)}. Set the variable, or add a later route for it, e.g. "
                f"EARMARK_LLM_ROUTES='{skipped[0].split('=')[0]}=anthropic,*=local'"
            )
        configured = ", ".join(r.describe() for r in self.all_routes) or "none"
        raise NotFoundError(
            f"model {model!r} is not routed to any provider (routes: {configured}); {_HOW_TO}"
        )

    def provider_for(self, route: Route) -> Provider:
        """The (shared) provider instance that serves ``route``."""
        config = self._config(route)
        key = (route.provider, config)
        with self._lock:
            provider = self._providers.get(key)
            if provider is None:
                provider = _KINDS[route.provider].factory(config)
                self._providers[key] = provider
            return provider

    def _config(self, route: Route) -> ProviderConfig:
        s = self.settings
        env = route.key_env
        base = ProviderConfig(
            api_key=os.environ.get(env, "") if env else "",
            timeout_s=route.timeout_s or s.llm_timeout_s,
            retries=s.llm_retries,
            context_length=route.context_length,
            threads=s.llm_threads,
            n_ctx=s.local_n_ctx,
        )
        return _KINDS[route.provider].configure(base, route, s)

    def close(self) -> None:
        """Close every provider this router created."""
        with self._lock:
            for provider in self._providers.values():
                provider.close()
            self._providers.clear()


def _openai(config: ProviderConfig) -> Provider:
    from earmark.llm.openai import OpenAIProvider

    return OpenAIProvider(config)


def _anthropic(config: ProviderConfig) -> Provider:
    from earmark.llm.anthropic import AnthropicProvider

    return AnthropicProvider(config)


def _local(config: ProviderConfig) -> Provider:
    from earmark.llm.local import LocalProvider

    return LocalProvider(config)


def _local_config(base: ProviderConfig, route: Route, s: LLMSettings) -> ProviderConfig:
    path = route.upstream_model
    if path is None or path.lower() in _BUNDLED_ALIASES:
        model_path = str(s.local_model_path) if s.local_model_path else None
    else:
        model_path = str(Path(path).expanduser())
    return replace(base, model_path=model_path, api_key="")


register_provider(
    "openai",
    ProviderKind(
        _openai,
        lambda base, route, s: replace(base, base_url=route.base_url or s.openai_base_url),
        key_env="OPENAI_API_KEY",
        key_required="when_named",
    ),
)
register_provider(
    "anthropic",
    ProviderKind(
        _anthropic,
        lambda base, route, s: replace(base, base_url=route.base_url or s.anthropic_base_url),
        key_env="ANTHROPIC_API_KEY",
        key_required="always",
    ),
)
register_provider("local", ProviderKind(_local, _local_config))

PROVIDERS: tuple[str, ...] = provider_names()
"""The built-in provider kinds (:func:`provider_names` also lists registered plugins)."""

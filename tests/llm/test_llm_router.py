"""Routing: env and file routes, globs, first match wins, defaults, missing credentials."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from earmark.config import LLMSettings
from earmark.errors import InputError, NotFoundError
from earmark.llm import Route, Router, parse_routes
from earmark.llm.anthropic import AnthropicProvider
from earmark.llm.local import LocalProvider
from earmark.llm.openai import OpenAIProvider
from earmark.llm.router import load_routes_file


def _router(spec: str = "", file: Path | None = None) -> Router:
    return Router.from_settings(LLMSettings(llm_routes=spec, llm_routes_file=file))


def test_parse_routes_env_syntax() -> None:
    routes = parse_routes(" claude-*=anthropic , gpt-*=openai:llama3:8b,*=local ")
    assert [r.describe() for r in routes] == [
        "claude-*=anthropic",
        "gpt-*=openai:llama3:8b",
        "*=local",
    ]
    assert routes[1].upstream_model == "llama3:8b"


@pytest.mark.parametrize("spec", ["claude-*", "x=", "=local", "x=mystery"])
def test_parse_routes_rejects_bad_items(spec: str) -> None:
    with pytest.raises(InputError):
        parse_routes(spec)


def test_nothing_configured_routes_every_model_to_local() -> None:
    router = _router()
    hit = router.resolve("claude-sonnet-4-5-20250929")
    assert hit.route.provider == "local"
    assert isinstance(hit.provider, LocalProvider)
    assert router.resolve("anything").provider is hit.provider


def test_first_match_wins_and_upstream_mapping(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
    router = _router("claude-*=anthropic,claude-sonnet-*=local,gpt-*=openai:qwen2.5,*=local")
    hit = router.resolve("claude-sonnet-4-5-20250929")
    assert hit.route.provider == "anthropic"
    assert hit.upstream_model == "claude-sonnet-4-5-20250929"
    assert isinstance(hit.provider, AnthropicProvider)
    gpt = router.resolve("gpt-5")
    assert isinstance(gpt.provider, OpenAIProvider)
    assert gpt.upstream_model == "qwen2.5"
    assert router.resolve("mistral").route.pattern == "*"


def test_unroutable_model_is_404_that_says_how_to_configure() -> None:
    router = _router("gpt-*=openai")
    with pytest.raises(NotFoundError) as info:
        router.resolve("claude-sonnet-4-5-20250929")
    assert info.value.status_code == 404
    assert "EARMARK_LLM_ROUTES" in str(info.value)
    assert "claude-sonnet-4-5-20250929" in str(info.value)


def test_anthropic_without_key_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    router = _router("claude-*=anthropic,*=local")
    assert router.resolve("claude-sonnet-4-5-20250929").route.provider == "local"
    only = _router("claude-*=anthropic")
    with pytest.raises(NotFoundError, match="ANTHROPIC_API_KEY"):
        only.resolve("claude-sonnet-4-5-20250929")


def test_route_file_yaml_with_default_and_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MY_KEY", "secret")
    path = tmp_path / "routes.yaml"
    path.write_text(
        "routes:\n"
        "  - pattern: 'gpt-*'\n"
        "    provider: openai\n"
        "    upstream_model: llama3\n"
        "    base_url: http://127.0.0.1:9/v1\n"
        "    api_key_env: MY_KEY\n"
        "    context_length: 4096\n"
        "    timeout_s: 5\n"
        "default: local\n"
    )
    router = _router("claude-*=local", path)
    hit = router.resolve("gpt-4.1")
    assert isinstance(hit.provider, OpenAIProvider)
    assert hit.provider.config.api_key == "secret"
    assert hit.provider.config.base_url == "http://127.0.0.1:9/v1"
    assert hit.provider.config.timeout_s == 5
    assert hit.provider.context_length("llama3") == 4096
    assert router.resolve("claude-x").route.pattern == "claude-*"
    assert router.resolve("other").route.provider == "local"


def test_route_file_json_list_and_errors(tmp_path: Path) -> None:
    good = tmp_path / "r.json"
    good.write_text(json.dumps([{"model": "a-*", "provider": "local"}]))
    routes, default = load_routes_file(good)
    assert routes == [Route("a-*", "local")] and default is None
    with pytest.raises(NotFoundError):
        _router(file=good).resolve("b")
    bad = tmp_path / "bad.yaml"
    bad.write_text("routes:\n  - pattern: x\n    provider: local\n    colour: red\n")
    with pytest.raises(InputError, match="colour"):
        load_routes_file(bad)
    with pytest.raises(InputError, match="cannot read"):
        load_routes_file(tmp_path / "missing.yaml")


def test_openai_route_naming_an_unset_key_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOPE_KEY", raising=False)
    router = Router([Route("*", "openai", api_key_env="NOPE_KEY"), Route("*", "local")])
    assert router.resolve("m").route.provider == "local"


def test_provider_kinds_register_by_name() -> None:
    from dataclasses import replace as dc_replace

    from earmark.config import LLMSettings
    from earmark.llm import ProviderConfig, Router
    from earmark.llm.router import ProviderKind, parse_routes, provider_names, register_provider

    made: list[ProviderConfig] = []

    class Echo:
        def __init__(self, config: ProviderConfig) -> None:
            made.append(config)

        def close(self) -> None:
            pass

    register_provider(
        "echo-test",
        ProviderKind(
            Echo,  # type: ignore[arg-type]
            lambda base, route, s: dc_replace(base, base_url="echo://" + route.pattern),
        ),
    )
    assert "echo-test" in provider_names()
    router = Router(parse_routes("e-*=echo-test"), LLMSettings())
    hit = router.resolve("e-1")
    assert isinstance(hit.provider, Echo) and made[0].base_url == "echo://e-*"

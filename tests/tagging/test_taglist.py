"""Tag list loading and validation: every accepted shape and every error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from earmark.errors import TagListError
from earmark.tagging import dump_tags, load_tags, presets
from earmark.types import Tag


def test_presets_match_the_seed_lists_exactly(shared: Path) -> None:
    seed = json.loads((shared / "docs" / "seed-taglists.json").read_text("utf-8"))
    assert presets() == tuple(seed)
    for name, tags in seed.items():
        loaded = load_tags(name)
        assert loaded.name == name
        assert loaded.as_dict() == tags
        assert list(loaded.names) == list(tags)


def test_shapes_are_equivalent(tmp_path: Path) -> None:
    flat = load_tags({"Sports": "Games and teams.", "Music": "Songs and bands."})
    nested = load_tags(
        {
            "Sports": {"description": "Games and teams.", "examples": ["the final score"]},
            "Music": {"description": "Songs and bands."},
        }
    )
    wrapped = load_tags(
        {"name": "mine", "tags": {"Sports": "Games and teams.", "Music": "Songs and bands."}}
    )
    listed = load_tags(
        {
            "tags": [
                {"name": "Sports", "description": "Games and teams."},
                {"name": "Music", "description": "Songs and bands."},
            ]
        }
    )
    assert flat.names == nested.names == wrapped.names == listed.names == ("Sports", "Music")
    assert nested.tags[0].examples == ("the final score",)
    assert wrapped.name == "mine"
    yml = tmp_path / "topics.yaml"
    yml.write_text(
        "Sports: Games and teams.\nMusic:\n  description: Songs and bands.\n  examples: [a concert]\n"
    )
    from_yaml = load_tags(yml)
    assert from_yaml.name == "topics" and from_yaml.tags[1] == Tag(
        "Music", "Songs and bands.", ("a concert",)
    )
    js = tmp_path / "t.json"
    js.write_text(json.dumps({"Sports": "Games and teams."}))
    assert load_tags(str(js)).names == ("Sports",)
    assert load_tags('{"Sports": "Games and teams."}').names == ("Sports",)


def test_round_trip_through_dump(tmp_path: Path) -> None:
    original = load_tags({"A": {"description": "first", "examples": ["x", "y"]}, "B": "second"})
    for fmt in ("yaml", "json"):
        path = tmp_path / f"t.{fmt}"
        path.write_text(dump_tags(original, fmt))
        assert load_tags(path).tags == original.tags
    assert load_tags(load_tags("media")) == load_tags("media")
    with pytest.raises(TagListError, match="format"):
        dump_tags(original, "xml")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({}, "empty"),
        ({"tags": {}}, "empty"),
        ({"A": "x", "a ": "y"}, "duplicate tag names 'A' and 'a'"),
        ({"Big  Data": "x", "big data": "y"}, "duplicate"),
        ({"A": ""}, "empty description"),
        ({"A": "   "}, "empty description"),
        ({"A": 3}, "description must be a string"),
        ({"A": None}, "description must be a string"),
        ({"A": {"description": "x", "examples": "one"}}, "examples"),
        ({"A": {"description": "x", "examples": ["ok", ""]}}, "example 2"),
        ({"A": {"description": "x", "examples": [1]}}, "example 1"),
        ({"A": {"description": "x", "colour": "red"}}, "unknown keys"),
        ({"": "x"}, "non-empty strings"),
        ({"tags": {"A": "x"}, "extra": 1}, "unknown top-level keys"),
        ({"tags": [{"description": "no name"}]}, "with a 'name'"),
        ("medai", "unknown tag list preset 'medai'; presets are: media, support"),
        ("", "no tag list given"),
        ("missing/tags.yaml", "does not exist"),
        ("{A: [unclosed", "inline tag list: invalid YAML at line 1"),
    ],
)
def test_errors(spec: object, message: str) -> None:
    with pytest.raises(TagListError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_tags(spec)  # type: ignore[arg-type]


def test_file_errors_name_the_file_and_line(tmp_path: Path) -> None:
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{\n  "A": "x",\n  "B" "y"\n}\n')
    with pytest.raises(TagListError, match=r"bad\.json: invalid JSON at line 3"):
        load_tags(bad_json)
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("A: x\nB: [y\n")
    with pytest.raises(TagListError, match=r"bad\.yaml: invalid YAML at line"):
        load_tags(bad_yaml)
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    with pytest.raises(TagListError, match="empty"):
        load_tags(empty)
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(TagListError, match="not UTF-8"):
        load_tags(binary)
    invalid = tmp_path / "dup.yaml"
    invalid.write_text("A: x\na: y\n")
    with pytest.raises(TagListError, match=r"dup\.yaml: duplicate"):
        load_tags(invalid)
    with pytest.raises(TagListError, match="not a file"):
        load_tags(tmp_path)
    plain_list = tmp_path / "list.yaml"
    plain_list.write_text("- a\n- b\n")
    with pytest.raises(TagListError, match="with a 'name'"):
        load_tags(plain_list)
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("just a sentence\n")
    with pytest.raises(TagListError, match="mapping of tag names"):
        load_tags(scalar)

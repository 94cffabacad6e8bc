"""Which words name a real place: China's administrative divisions, the world's countries, continents and blocs.

Why: the offline answerer refuses a question that names a place the documents never mention (北京市, 海南), and it
finds place names with jieba's part-of-speech tags — which also tag common words as places: 太极, 大城市, 山区,
拉闸, 上门. Five of the plainly worded questions written blind (README, "Measured on what we did not tune on")
were refused for such words. A word now counts as a place only if it is one: a division in cpca's table of
China's adcodes (province, city, county; 3,500 names), a country in pycountry's Chinese ISO 3166 names, or a
continent or bloc. Both tables ship with pinned packages and are read offline; cpca's is read as a file, without
importing cpca (which imports pandas).
"""

from __future__ import annotations

import csv
import gettext
import importlib.util
import re
from functools import lru_cache
from pathlib import Path

# Generic suffixes of Chinese place names: 东莞市 / 东莞, 浦东新区 / 浦东, 广西壮族自治区 / 广西.
_SUFFIX = re.compile(r"(?<=..)(?:特别行政区|(?:[\u4e00-\u9fff]{1,3}族)?自治[区州县旗]|新区|地区|省|市|区|县|州|盟|旗)$")
# Continents, regions and blocs: general knowledge no country table holds.
WORLD_REGIONS = frozenset({"亚洲", "欧洲", "非洲", "美洲", "北美", "北美洲", "南美", "南美洲", "拉美", "大洋洲", "中东",
                           "东南亚", "南亚", "中亚", "东亚", "西亚", "北欧", "东欧", "西欧", "南欧", "欧盟", "东盟"})


def short_name(name: str) -> str:
    """The name without its generic suffix: 东莞市 → 东莞, 浦东新区 → 浦东 (a name of two characters stays whole)."""
    return _SUFFIX.sub("", name)


def _chinese_divisions() -> set[str]:
    spec = importlib.util.find_spec("cpca")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("cpca is not installed (pinned in pyproject.toml)")
    table = Path(next(iter(spec.submodule_search_locations))) / "resources" / "adcodes.csv"
    with table.open(encoding="utf-8") as f:
        return {row["name"] for row in csv.DictReader(f)}


def _countries() -> set[str]:
    import pycountry

    zh = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["zh_CN"])
    return {zh.gettext(name) for c in pycountry.countries
            for name in (c.name, getattr(c, "common_name", c.name), getattr(c, "official_name", c.name))}


@lru_cache(maxsize=1)
def _places() -> tuple[frozenset[str], frozenset[str]]:
    """(full names, names without their generic suffix)."""
    names = _chinese_divisions() | _countries() | WORLD_REGIONS
    return frozenset(names), frozenset(short_name(n) for n in names)


def is_place(word: str) -> bool:
    """Whether `word` (Chinese) names a real place: 东莞, 东莞市, 浦东新区, 德国, 欧洲 — not 太极, 山区, nor 大城市
    (大城 is a county, 大城县, but a word ending in 市 must be a city's full name)."""
    full, short = _places()
    return word in full or (short_name(word) == word and word in short)

"""Everyday words for what policy texts name formally: 电动车 → 新能源汽车, 看病 → 医疗, "red tape" → formalism.

Why: BM25 and the term-coverage checks match words, and the small multilingual embedding model does not bridge
slang to officialese (电动车 and 新能源汽车 are far apart for it), so a plainly worded question found nothing and
was refused. The formal terms are appended to the question for searching and scoring; the user's words stay.
General usage, not tied to one document: a term only helps where the document uses it.
"""

from __future__ import annotations

import re

from rag.text import has_cjk

COLLOQUIAL_ZH: dict[str, str] = {
    "电动车": "新能源汽车", "电动汽车": "新能源汽车", "电车": "新能源汽车", "充电难": "充电桩",
    "老百姓": "", "看病": "医疗", "就医": "医疗", "医院": "医疗", "芯片": "集成电路 强芯", "半导体": "集成电路",
    "上学": "教育", "学校": "教育", "房价": "房地产", "买房": "住房 房地产", "租房": "租赁住房",
    "养老金": "养老保险", "退休": "养老", "找工作": "就业", "失业": "就业", "工资": "劳动报酬 工资",
    "堵车": "交通", "官僚": "官僚主义", "走过场": "形式主义",
    "吃饭": "粮食", "种田": "耕地 粮食", "农民": "农村 农业", "老外": "外籍 外智",
    "污染": "污染防治", "雾霾": "蓝天 污染", "碳中和": "碳达峰碳中和",
}
COLLOQUIAL_EN: dict[str, str] = {
    r"evs?": "new energy vehicles", r"electric (?:cars?|vehicles?)": "new energy vehicles",
    r"charging": "charging piles", r"chips?|semiconductors?|microchips?": "integrated circuits chips",
    r"red tape|box-ticking|paperwork|bureaucracy": "formalism bureaucratism",
    r"ai": "artificial intelligence", r"healthcare|health care|hospitals?|doctors?": "medical",
    r"jobs?|jobless|unemploy\w*": "employment", r"renewables?|green energy": "clean energy",
    r"house prices?|property market": "real estate", r"pensions?": "pension insurance elderly care",
    r"schools?": "education", r"smog|air pollution": "blue skies pollution", r"startups?": "entrepreneurship",
    r"foreigners?|expats?": "foreign talent",
}
_EN_PATTERNS = [(re.compile(rf"\b(?:{k})\b", re.I), v) for k, v in COLLOQUIAL_EN.items()]


def expand_colloquial(question: str, language: str) -> str:
    """`question` with the formal terms for its everyday words appended (unchanged when it has none); words
    that only address the reader (老百姓: "ordinary people") are left out, as they would match 百姓 anywhere."""
    extra: list[str] = []
    if language == "zh" or has_cjk(question):
        extra += [formal for word, formal in COLLOQUIAL_ZH.items() if word in question and formal not in question]
        for word in (w for w, formal in COLLOQUIAL_ZH.items() if not formal):
            question = question.replace(word, "")
    if language == "en":
        extra += [formal for pattern, formal in _EN_PATTERNS if pattern.search(question)]
    extra = [e for e in dict.fromkeys(extra) if e and e.lower() not in question.lower()]
    return f"{question} {' '.join(extra)}" if extra else question


def formal_wording(question: str, language: str) -> str:
    """`question` with its everyday words replaced by the formal terms (for judging what it is about)."""
    if language == "zh" or has_cjk(question):
        for word, formal in sorted(COLLOQUIAL_ZH.items(), key=lambda kv: -len(kv[0])):
            question = question.replace(word, f" {formal} ")
    if language == "en":
        for pattern, formal in _EN_PATTERNS:
            question = pattern.sub(f" {formal} ", question)
    return question

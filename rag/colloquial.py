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
    "种子": "种业 种源", "菜价": "菜篮子 保供稳价", "高铁": "铁路 轨道", "地铁": "城市轨道交通",
    "飞机场": "机场", "大学": "高校 高等教育", "幼儿园": "学前教育 育幼", "托儿所": "托育 育幼", "生孩子": "生育",
    "养老院": "养老服务", "垃圾": "固体废物", "太阳能": "光伏", "风电": "海上风电", "民企": "民营企业",
    "国企": "国有企业", "小企业": "中小企业", "外企": "外商投资企业 外资", "老板": "企业家", "山寨": "侵权 假冒",
    "盗版": "侵权 知识产权", "基建": "基础设施", "贷款": "融资 信贷", "年轻人": "青年", "办事": "政务服务",
    "网购": "电子商务", "电商": "电子商务", "算力中心": "算力", "个税": "个人所得税", "社保": "社会保险",
    "外资企业": "外商投资企业", "烧煤": "煤炭", "用煤": "煤炭", "商业机密": "商业秘密",
    "楼市": "房地产", "暴雷": "风险", "爆雷": "风险", "农民进城": "农业转移人口 市民化", "进城务工": "农业转移人口 市民化",
    "进城打工": "农业转移人口 市民化", "进城落户": "农业转移人口 市民化",
    "乡下": "农村 城乡", "煤电": "煤炭 电源 电力", "火电": "煤炭 电源 电力",
}
COLLOQUIAL_EN: dict[str, str] = {
    r"evs?": "new energy vehicles", r"electric (?:cars?|vehicles?)": "new energy vehicles",
    r"charging": "charging piles", r"chips?|semiconductors?|microchips?": "integrated circuits chips",
    r"red tape|box-ticking|paperwork|bureaucracy": "formalism bureaucratism",
    r"ai": "artificial intelligence", r"healthcare|health care|hospitals?|doctors?": "medical",
    r"jobs?|jobless|unemploy\w*": "employment", r"renewables?|green energy": "clean energy",
    r"house prices?|property market": "real estate", r"pensions?": "pension insurance elderly care",
    r"schools?": "education", r"smog|air pollution": "blue skies pollution", r"startups?": "entrepreneurship",
    r"re-?train\w*|re-?skill\w*|upskill\w*": "vocational skills training",
    r"foreigners?|expats?": "foreign talent",
    r"seeds?": "seed industry",
    r"high-speed rail|bullet trains?": "railway", r"subways?|metro": "urban rail transit",
    r"universities|colleges?": "higher education", r"kindergartens?|daycare|child ?care": "childcare preschool",
    r"nursing homes?": "elderly care", r"garbage|trash|rubbish": "solid waste", r"solar": "photovoltaic",
    r"wind farms?|wind power": "offshore wind power", r"smes|small businesses|small firms": "small and medium-sized",
    r"private (?:companies|firms|businesses)": "private enterprises", r"soes?": "state-owned enterprises",
    r"counterfeits?|fakes?|knock-?offs?|piracy": "intellectual property infringement", r"loans?": "financing credit",
    r"young people": "youth", r"ip": "intellectual property",
    r"business[- ]friendly|ease of doing business": "business environment",
    r"(?:lab|research) (?:results|findings)|commerciali[sz]\w*": "commercialization of scientific and technological "
                                                               "achievements",
    r"labs?": "laboratories",
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

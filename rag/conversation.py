"""Multi-turn: decide whether a follow-up continues the previous topic, and if so make it standalone.

The rule (offline; the LLM condenser of the openai backend is asked only when this rule says to condense):

1. A question that names its own unit (第八条, Article 8, Part I), opens by changing the subject (另外想问下,
   顺便问一下, "Separately", "By the way", "Different question:" — its "it" is then the document), or says nothing
   that points back is a **new question**: it is answered exactly as if asked alone. "今天天气怎么样？" after
   第四十条, "And what about housing?" after a question on talent, "Thanks. Separately, what about food security?"
   are new questions.
2. A question that **points back** — 这一条 / 该条 / 它 / 其中 / "this article" / "that same part" / "it" / "they" /
   "those" (not the dummy "is it easier …") — continues: the unit the previous answer cited first (the most relevant
   one) is named in front of it ("第八条 这一条还提到了哪些传统产业？"). Without a cited unit, the previous question is
   added.
3. An **elliptical** question — 那深圳呢？ / 前海呢？ / 那2035年呢？ / "And Shenzhen?" / "What about Qianhai?" /
   "And for 2035?" — continues only when its topic fits a slot of the same kind in the previous question: a place
   for a place, a year for a year. The previous question (itself made standalone first, so 横琴 → 前海 → 南沙
   chains) is repeated with the new topic swapped in. A place may be swapped across languages ("What about
   Shenzhen?" after 广州在文件里的定位是什么？) through the small gazetteer below. An elliptical question whose
   topic fits no slot ("And what about housing?", 那养老呢？) is a new question on that topic.
4. A question that points back to a **place** — 那边 / 那里 / 那儿 / 当地 / 该地 / "there" (not "is there", "are
   there", "in there", "there are") — continues with the previous question's first place that it does not name
   itself put in the pointer's stead: 那在那边上班的澳门人，个税怎么算？ after a question on 横琴合作区 asks about 横琴
   (澳门 is its own); its topic (个税) is its own too.

5. A question that refers to a **document** by its kind alone — 条例有没有要求保密？ / 这个条例 / "under that law" /
   "the same regulation" — after an answer that cited a document by name, is asked over that document: its title is
   put in front (《广东省外商投资权益保护条例》 条例有没有要求保密？). Its topic is its own.

6. A question that asks where **else** the document says something — "Do ports come up anywhere else?" /
   那新能源车在文件别的地方还出现过吗？ / 除了那一条，… — is a new question (its "it" and "there" point at nothing),
   answered without the units the previous answer cited, when others are found.

When a pointer (rule 2) names the cited unit but a check refuses it there (it asks for a number the unit does not
hold: "Once they've filed it, how soon must the office decide?" — "it" is the complaint, not the article), the chain
asks `topic_question` instead: the question with the previous one after it, searched like any other, if that can be
answered. A bare pronoun ("it", "they", 它 — not 这一条 / "that article") may mean the document or the actors as
well as the unit ("Does it get specific about rental housing?" — "it" is the plan; "do they share information?" —
"they" are the agencies): the topic question is asked as well, and answers when it finds another unit first and
the cited one scores well below it there (Calibration.pronoun_unit_score). Only the rule's rewrite falls back; the
LLM condenser's rewrite is searched as it is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from rag.references import find_references
from rag.segmentation import tagged_names
from rag.text import CJK_CHARS, has_cjk, int_to_cn, int_to_roman

Message = dict[str, Any]

# Pointers that name a unit (这一条, "that same article") and pronouns that may (它, "it", "they"): an opening
# that changes the subject cancels a pronoun, never a named unit.
_NAMES_UNIT_ZH = re.compile(r"这一?条|该条|此条|本条|同一条|这一?部分|该部分|同一部分|上述|上面(?:那|这)?条")
_NAMES_UNIT_EN = re.compile(r"\b(?:(?:this|that|these|those)(?: same)?|the (?:same|above|previous|last)) "
                            r"(?:articles?|sections?|parts?|provisions?|ones?|clauses?)\b", re.I)
_PRONOUN_ZH = re.compile(r"它|其中|里面还")
# "they"/"them" only among a question's first five words, where they are its subject or object ("How long do they
# have to keep…"), or "them" as its last ("Is there any subsidy for running them?"), not elsewhere, where they
# mostly refer inside it ("If foreign firms are infringed, can they…");
# "those" only before a noun ("those records", not "those who").
_PRONOUN_EN = re.compile(r"\b(?:it|its)\b|^\W*(?:[\w'’]+\W+){0,4}(?:they|them)\b|\bthem\W*$"
                         r"|\bthose\b(?!\s+(?:who|which|that|of|with|in|for)\b)", re.I)
_PRONOUN_WORDS_EN = re.compile(r"\b(?:it|its|they|them|those)\b", re.I)  # to take out of a question's topic
# "Is it easier …", "it is possible …": "it" that refers to nothing.
_DUMMY_IT = re.compile(r"\b(?:is|was|will|would|does|did) it (?:be )?(?:easier|harder|possible|true|likely|hard|"
                       r"easy|necessary|enough|worth)\b|\bit(?:'s| is| was) (?:easier|harder|possible|true|likely|"
                       r"hard|easy|necessary|worth)\b", re.I)
# 那深圳呢？ / 那么前海怎么样？ / 还有南沙呢？ / 前海呢？ — a topic framed by 那…呢 (or a bare "X呢？").
_ELLIPSIS_ZH = re.compile(r"^(?:(?P<lead>那么|那|还有|另外|以及)\s*)?(?P<topic>[^，,。？?！!]{1,12}?)\s*"
                          r"(?:方面|这块|这边|的情况)?\s*(?P<tail>呢|怎么样|如何|又如何)\s*[？?。]*$")
# And Shenzhen? / What about Qianhai? / And for 2035? / How about the 2035 goals?
_ELLIPSIS_EN = re.compile(r"^(?:(?:and|but|ok(?:ay)?|so)[,\s]+)?(?:(?P<about>what|how)\s+about\s+)?"
                          r"(?:(?:for|in|on|regarding)\s+)?(?:the\s+)?(?P<topic>[^?.!]{1,40}?)\s*[?.!]*$", re.I)
# 那边 / "there": a place the conversation named. Not the existential "is there", nor "in there" (the document).
_PLACE_POINTER_ZH = re.compile(r"那边|那里(?!面)|那儿|当地|该地(?!区)")
# "there" where it is a place: not after is/are/was/were ("is there"), not "in there", not before a verb of being
# ("there are", "there will be").
_PLACE_POINTER_EN = re.compile(r"(?<!\bis )(?<!\bare )(?<!\bin )(?<!\bwas )(?<!\bwere )\b(?:over |out |down )?there\b"
                               r"(?!\s+(?:is|are|was|were|will|would|be|has|have|had|must|should|may|might|can|could|"
                               r"seems?)\b)(?!['’]s)", re.I)
# Openings that change the subject: what follows is a new question even if it says "it" (the document).
_SUBJECT_CHANGE_EN = (r"separately|by the way|btw|(?:a |totally |completely )?different (?:question|subject|topic|thing|"
                      r"matter)|another question|new question|switching (?:topics?|gears)|changing (?:the )?(?:topic|"
                      r"subject)|on (?:a different|another) (?:note|topic)|(?:totally |completely |something )?unrelated"
                      r"(?: question)?|one more (?:thing|question)")
_SUBJECT_CHANGE_ZH = r"另外(?:想|再)?问|顺便|换个(?:话题|问题)|再问(?:一个|个)|还有个问题|另一个问题"
_NEW_SUBJECT = re.compile(
    rf"^\W*(?:(?:ok(?:ay)?|thanks?(?: you)?|got it|great)\W+)*(?:{_SUBJECT_CHANGE_EN})\b"
    rf"|^\W*(?:(?:好的?|谢谢|明白了?|了解)\W*)*(?:{_SUBJECT_CHANGE_ZH})", re.I)
# "Anywhere else?" / 别的地方还出现过吗？ / 除了这一条: the cited units are what the asker does not want again (rule 6).
_ELSEWHERE = re.compile(r"别的地方|其他地方|其它地方|别处|其他条|别的条|还在哪|除了?(?:这|那|该|上面|上述)一?(?:条|处|部分)|"
                        r"\banywhere else\b|\belsewhere\b|\bwhere else\b|\bother (?:articles|parts|places|sections)\b|"
                        r"\b(?:apart from|besides|other than|except(?: for)?|aside from) (?:this|that|the (?:same|"
                        r"previous|last|above)) (?:article|part|one|section|provision)\b", re.I)
_EN_LEAD = re.compile(r"^(?:and|but|ok(?:ay)?|so)\b", re.I)
# What a new question opens with that asks nothing ("And", "Thanks. Separately,", 好的。顺便问一下，): left out of the
# question it is answered as, or it would be searched for ("And imports?" found the preamble, "imports?" 第十六条).
_OPENING = re.compile(
    rf"^(?:\W*(?:and|but|ok(?:ay)?|so|cool|thanks?(?: you)?|got it|great|{_SUBJECT_CHANGE_EN})\b[\s,.!:;—–-]*)+"
    rf"|^(?:\W*(?:好的?|谢谢|明白了?|了解|嗯|哦|(?:{_SUBJECT_CHANGE_ZH})(?:问一?下|问问|说一下|一下|个问题|问题)?)"
    r"[\s，,。.！!：:；;—–-]*)+", re.I)
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
_EN_NAME = re.compile(r"\b[A-Z][a-z]+(?:[ -][A-Z][a-z]+)*")
_EN_NOT_NAMES = {"What", "Which", "How", "Who", "Why", "When", "Where", "Does", "Do", "Is", "Are", "And", "The",
                 "Tell", "Article", "Art", "Part", "Section", "Chapter", "Preamble", "Plan", "Document", "About",
                 "Thanks", "Thank", "Ok", "Okay", "So", "But", "For", "In", "On", "Regarding"}
# Places in Guangdong by their Chinese and English (pinyin) names: general knowledge, so that a follow-up may
# swap a place across languages, and and to know the district names jieba does not tag as places (横琴 / 前海 / 南沙).
PLACES: dict[str, str] = {
    "广东": "Guangdong", "广州": "Guangzhou", "深圳": "Shenzhen", "珠海": "Zhuhai", "汕头": "Shantou",
    "佛山": "Foshan", "韶关": "Shaoguan", "湛江": "Zhanjiang", "肇庆": "Zhaoqing", "江门": "Jiangmen",
    "茂名": "Maoming", "惠州": "Huizhou", "梅州": "Meizhou", "汕尾": "Shanwei", "河源": "Heyuan", "阳江": "Yangjiang",
    "清远": "Qingyuan", "东莞": "Dongguan", "中山": "Zhongshan", "潮州": "Chaozhou", "揭阳": "Jieyang",
    "云浮": "Yunfu", "横琴": "Hengqin", "前海": "Qianhai", "南沙": "Nansha", "河套": "Hetao", "香港": "Hong Kong",
    "澳门": "Macao", "珠三角": "Pearl River Delta", "大湾区": "Greater Bay Area",
}
_PLACE_OF_EN = {en.lower(): zh for zh, en in PLACES.items()} | {"macau": "澳门"}
_KNOWN_PLACE_ZH = re.compile("|".join(sorted(PLACES, key=len, reverse=True)))


def message_text(content: Any) -> str:
    """Plain text of a message whose content may be a string or a list of Gradio content blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(message_text(c) for c in content)
    if isinstance(content, dict):
        return str(content.get("text") or content.get("content") or "")
    return ""


def normalize_history(history: Sequence[Any] | None) -> list[Message]:
    """Accept messages ({role, content}), (user, assistant) pairs, or bare user strings; return messages."""
    out: list[Message] = []
    for item in history or []:
        if isinstance(item, str):
            out.append({"role": "user", "content": item})
        elif isinstance(item, dict) and item.get("role") in ("user", "assistant"):
            out.append({"role": item["role"], "content": message_text(item.get("content"))})
        elif isinstance(item, (list, tuple)) and len(item) == 2:
            out += [{"role": "user", "content": message_text(item[0])},
                    {"role": "assistant", "content": message_text(item[1] or "")}]
    return [m for m in out if m["content"].strip()]


def _language(text: str) -> str:
    from rag.text import detect_language

    return detect_language(text)


def names_unit(question: str) -> bool:
    """Whether the question points back by naming a unit (这一条, "that same article"), not by a pronoun alone."""
    return bool(_NAMES_UNIT_ZH.search(question) or _NAMES_UNIT_EN.search(question))


def points_back(question: str) -> bool:
    """Whether the question refers to what was just discussed ("this article", 它, "it")."""
    return names_unit(question) or bool(_PRONOUN_ZH.search(question)
                                         or _PRONOUN_EN.search(_DUMMY_IT.sub(" ", question)))


def elliptical_topic(question: str) -> str | None:
    """The new topic of an elliptical follow-up (深圳 in 那深圳呢？, Shenzhen in "And Shenzhen?"), else None."""
    q = question.strip()
    if has_cjk(q):
        m = _ELLIPSIS_ZH.match(q)
        if m and (m.group("lead") or m.group("tail") == "呢"):
            return m.group("topic").strip()
        return None
    m = _ELLIPSIS_EN.match(q)
    if not m or not (m.group("about") or _EN_LEAD.match(q)):
        return None
    topic = m.group("topic").strip()
    return topic if len(topic.split()) <= 5 else None


def named_places(text: str) -> list[str]:
    """Place names in `text`, Chinese ones as written, English ones as their Chinese name when known."""
    out = [m.group(0) for m in _KNOWN_PLACE_ZH.finditer(text)]
    out += [w for w in tagged_names(text, ("ns",)) if has_cjk(w[:1]) and not any(w in p or p in w for p in out)]
    for m in _EN_NAME.finditer(text):
        name = m.group(0)
        # A sentence's first word is capitalised anyway ("Under the Hengqin regulation, …"): a name there only if it
        # is a known place or all there is (the topic of "What about Zhaoqing?").
        first = not re.search(r"[A-Za-z0-9,;:]\W*$", text[:m.start()])
        known = [w for w in re.split(r"[ -]", name) if w.lower() in _PLACE_OF_EN]
        if name.lower() not in _PLACE_OF_EN and known:  # "Hengqin Guangdong-Macao …": the places it is made of
            out += known
        elif name.split()[0] not in _EN_NOT_NAMES and (
                not first or name.lower() in _PLACE_OF_EN or text.strip(" ?.!") == name):
            out.append(name)
    return out


def _same_place(a: str, b: str) -> bool:
    return _PLACE_OF_EN.get(a.lower(), a) == _PLACE_OF_EN.get(b.lower(), b)


def place_in_language(place: str, language: str) -> str:
    """`place` written for a question in `language` (a known place across languages, else as given)."""
    zh = _PLACE_OF_EN.get(place.lower(), place)
    if language == "zh":
        return zh
    return PLACES.get(zh, place)


def swap_topic(topic: str, previous: str) -> str | None:
    """`previous` with `topic` in the slot of the same kind (a year for a year, a place for a place), or None."""
    years, prev_years = _YEAR.findall(topic), _YEAR.findall(previous)
    if years and len(set(prev_years)) == 1:
        return previous.replace(prev_years[0], years[0])
    places = named_places(topic)
    prev_places = list(dict.fromkeys(named_places(previous)))
    if len(places) == 1 and len(prev_places) == 1 and not _same_place(places[0], prev_places[0]):
        return previous.replace(prev_places[0], place_in_language(places[0], _language(previous)), 1)
    return None


def _last_citation(history: list[Message]) -> tuple[Any, str] | None:
    """(reference, its document's title or '') of the unit the conversation was last about: the first one the last
    answer cited, else the last one a user named."""
    for m in reversed(history[-MAX_TURNS:]):
        refs = [r for r in find_references(m["content"]) if r.kind in ("article", "section")]
        if refs:
            # A citation naming its document ([《广东省知识产权保护条例》第三十条] / [<English title>, Art. 30]) keeps
            # the document in the follow-up, so it is not asked over every document of the library.
            before = m["content"][:refs[0].start]
            named = _CITED_BOOK.search(before) or _CITED_TITLE.search(before)  # 《…》 first: it may follow a lead-in
            return refs[0], named.group(1).strip() if named else ""
    return None


def _book(title: str, language: str) -> str:
    return title if title.startswith("《") or language != "zh" else f"《{title}》"


def _cited_unit_label(history: list[Message], language: str) -> str:
    """'第八条' / 'Article 8' for the unit the conversation was last about (see _last_citation), with its document
    when the citation named one ('' if none)."""
    found = _last_citation(history)
    if not found:
        return ""
    r, title = found
    if r.kind == "article":
        label = f"第{int_to_cn(r.number)}条" if language == "zh" else f"Article {r.number}"
    else:
        label = f"第{int_to_cn(r.number)}部分" if language == "zh" else f"Part {int_to_roman(r.number)}"
    if not title:
        return label
    return f"{_book(title, language)}{label}" if language == "zh" else f"{label} of {_book(title, language)}"


def _cited_document(question: str, history: list[Message]) -> str:
    """The title of the document the last answer cited, if `question` refers to a document by its kind alone
    (条例有没有要求保密？ / "under that law"), not by name; else ''."""
    if not (_DOCUMENT_POINTER_ZH.search(question) or _DOCUMENT_POINTER_EN.search(question)):
        return ""
    found = _last_citation(history)
    return _book(found[1], _language(question)) if found and found[1] else ""


_CITED_BOOK = re.compile(r"(《[^》\n]{2,80}》),?\s*$")
# A document referred to by its kind alone: 条例 after a demonstrative, 的 or no word at all (not 知识产权保护条例,
# which names one), "the/that/this (same) regulation", "that law", "these rules" (not "Guangdong's IP rules").
_DOCUMENT_POINTER_ZH = re.compile(rf"(?:(?<![{CJK_CHARS}])|(?<=[这该此本那个部份的里]))(?:条例|法规)(?!》)")
_DOCUMENT_POINTER_EN = re.compile(r"\b(?:the|this|that|these|those)\s+(?:same\s+)?(?:regulations?|rules|law|ordinance)\b",
                                  re.I)
_CITED_TITLE = re.compile(r"(?:^|\n|\[)([^\[\]\n]{4,120}),\s*$")


MAX_TURNS = 12  # messages looked back at: a follow-up refers to the last few turns, not to the whole chat


def _previous_question(history: list[Message]) -> str:
    """The last user question of `history`, made standalone turn by turn from the start (so 横琴 → 前海 → 南沙
    chains), in one pass over the last MAX_TURNS messages."""
    recent = history[-MAX_TURNS:]
    previous = ""
    for i, m in enumerate(recent):
        if m["role"] == "user":
            previous = _standalone(m["content"], recent[:i], previous)
    return previous


def _with_place(question: str, previous: str) -> str | None:
    """`question` with its place pointer (那边, "there") replaced by the first place of the previous question that
    it does not name itself (在那边上班的澳门人 after 横琴: 横琴, not 澳门), or None."""
    m = (_PLACE_POINTER_ZH if has_cjk(question) else _PLACE_POINTER_EN).search(question)
    named = named_places(question) if m else []
    places = [p for p in named_places(previous) if not any(_same_place(p, n) for n in named)] if m else []
    if not m or not places:
        return None
    place = place_in_language(places[0], "zh" if has_cjk(question) else "en")
    return question[:m.start()] + (place if has_cjk(question) else f"in {place}") + question[m.end():]


def asks_elsewhere(question: str) -> bool:
    """Whether the question asks where else the document says something (rule 6)."""
    return _ELSEWHERE.search(question) is not None


def _continues(question: str, history: list[Message], previous: str) -> bool:
    if not history or find_references(question) or asks_elsewhere(question):
        return False
    if names_unit(question):
        return True
    if points_back(question) or _with_place(question, previous):
        return not _NEW_SUBJECT.search(question)  # "Separately, what does it say about…": "it" is the document
    topic = elliptical_topic(question)
    return (topic is not None and swap_topic(topic, previous) is not None) or bool(_cited_document(question, history))


def _standalone(question: str, history: list[Message], previous: str, language: str | None = None) -> str:
    """`question` made standalone, given the conversation before it and its previous standalone question."""
    if not _continues(question, history, previous):
        return without_opening(question)
    language = language or _language(question)
    placed = _with_place(question, previous)
    if points_back(question):
        question = placed or question
        label = _cited_unit_label(history, language)
        return f"{label} {question}" if label else f"{question} {previous}".strip()
    swapped = swap_topic(elliptical_topic(question) or "", previous)
    if placed or swapped:
        return placed or swapped or question
    return f"{_cited_document(question, history)} {without_opening(question)}"  # rule 5


def without_opening(question: str) -> str:
    """The question without an opening that asks nothing (see _OPENING); the question itself if that is all."""
    return _OPENING.sub("", question) or question


def without_pointers(question: str) -> str:
    """The question without the words that point back (这一条, "this article"): they name no topic."""
    for pattern in (_NAMES_UNIT_ZH, _NAMES_UNIT_EN, _PRONOUN_ZH, _PRONOUN_WORDS_EN):
        question = pattern.sub(" ", question)
    return re.sub(r"\s+", " ", question).strip()


def previous_citations(history: list[Message]) -> list[str]:
    """Unit ids (A8, S1) the last answer cited, most relevant first."""
    for m in reversed(history):
        if m["role"] == "assistant":
            return list(dict.fromkeys(r.unit_id for r in find_references(m["content"])))
    return []


def continues_topic(question: str, history: list[Message]) -> bool:
    """Whether an elliptical follow-up carries the previous question over (那深圳呢？ after 广州…); a place pointer
    carries only the place, not the topic."""
    previous = _previous_question(history)
    return (needs_condensing(question, history) and not points_back(question) and not _with_place(question, previous)
            and swap_topic(elliptical_topic(question) or "", previous) is not None)


def topic_question(question: str, history: list[Message]) -> str:
    """What a pointer ("it", 它) means when the unit the last answer cited does not speak to the question: the
    conversation's topic, i.e. the question with the previous (standalone) question after it."""
    previous = _previous_question(history)
    return f"{_with_place(question, previous) or question} {previous}".strip()


def needs_condensing(question: str, history: list[Message]) -> bool:
    """Whether `question` continues the conversation (see the module docstring); False means a new question."""
    return _continues(question, history, _previous_question(history))


def condense_question(question: str, history: list[Message], language: str | None = None) -> str:
    """The standalone question (see the module docstring); the question itself when it is a new one."""
    return _standalone(question, history, _previous_question(history), language)


def rule_condense(question: str, history: list[Message], language: str) -> str:
    """Offline condenser (kept name): see `condense_question`."""
    return condense_question(question, history, language)


def format_history(history: list[Message], max_turns: int = 6) -> str:
    return "\n".join(f"{m['role']}: {m['content'][:600]}" for m in history[-max_turns:])

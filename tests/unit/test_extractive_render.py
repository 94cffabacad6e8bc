"""How the offline answer is written: a titled lead-in per unit, verbatim quotes, each cited, in the answer language."""

from __future__ import annotations

import dataclasses

from rag.document import Unit
from rag.extractive import CALIBRATION, Calibration, _group_text, quotable_sentences

A5 = Unit(doc_id="doc", unit_id="A5", kind="article", number=5, marker="(五)", section_number=3,
          section_title="持续有效扩大内需", title="促进消费提质升级",
          text="(五) 促进消费提质升级。支持新能源汽车消费，加强充电桩建设。增加养老育幼服务消费。",
          title_en="Promote consumption upgrading",
          text_en="(5) Promote consumption upgrading. Support the consumption of new energy vehicles, and build "
                  "charging piles. Increase consumption of elderly care services.")
UNTRANSLATED = dataclasses.replace(A5, doc_id="regulation", title_en="", text_en="")


def test_the_heading_is_a_title_never_a_quote() -> None:
    assert quotable_sentences(A5, "zh") == ["支持新能源汽车消费，加强充电桩建设。", "增加养老育幼服务消费。"]
    assert quotable_sentences(A5, "en")[0].startswith("Support the consumption")


def test_lead_in_names_the_unit_and_its_title_in_the_answer_language() -> None:
    zh = _group_text(A5, quotable_sentences(A5, "zh"), "zh")
    assert zh == "第五条（促进消费提质升级）提出：支持新能源汽车消费，加强充电桩建设[第五条]。增加养老育幼服务消费[第五条]。"
    en = _group_text(A5, quotable_sentences(A5, "en")[:1], "en")
    assert en == ("Art. 5 (Promote consumption upgrading) states: Support the consumption of new energy vehicles, "
                  "and build charging piles [Art. 5].")


def test_a_missing_translation_is_said_not_hidden() -> None:
    text = _group_text(UNTRANSLATED, ["支持新能源汽车消费，加强充电桩建设。"], "en")
    assert text.startswith("Art. 5 states: (Chinese original; this document has no English translation) ")
    assert "支持新能源汽车消费，加强充电桩建设[Art. 5]。" in text


def test_every_tuned_constant_lives_in_the_calibration() -> None:
    fields = {f.name for f in dataclasses.fields(Calibration)}
    assert {"min_support", "dense_weight", "year_mismatch", "evidence_units", "other_units", "lookup_units",
            "name_units", "name_max_share", "keep", "max_sentences"} <= fields
    assert 0 < CALIBRATION.min_support < 1 and CALIBRATION.evidence_units >= 1

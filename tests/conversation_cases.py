"""Follow-up cases for the condenser, shared by the offline rule's unit tests and the LLM condenser's tests against
the local OpenAI-compatible server: (history, question, standalone question) — the question itself when it must be
answered as if asked alone, without an opening that asks nothing ("And", "Thanks. Separately,")."""

from __future__ import annotations


def chat(*turns: str) -> list[dict[str, str]]:
    """Alternating user / assistant messages, as the UI and the API pass them."""
    return [{"role": "user" if i % 2 == 0 else "assistant", "content": t} for i, t in enumerate(turns)]


# (history, question, standalone question) — for a new question, itself without its opening (see above).
CASES = [
    # new questions: a topic switch is answered alone
    (chat("How will Guangdong attract foreign talent?", "Art. 16 (…) states: … [Art. 16]."),
     "And what about housing?", "what about housing?"),
    (chat("第四十条讲了什么？", "文件中没有第四十条：本文件共 33 条、11 个部分。"),
     "今天天气怎么样？", "今天天气怎么样？"),
    (chat("What does Article 8 say?", "Art. 8 (…) states: … [Art. 8]."),
     "Thanks. Separately, what does the plan say about food security?",
     "what does the plan say about food security?"),
    (chat("文件对教育有什么安排？", "第二十五条（…）提出：…[第二十五条]。"), "那养老呢？", "那养老呢？"),
    (chat("芯片产业在规划中是怎么部署的？", "第八条（…）提出：…[第八条]。"), "那量子技术呢？", "那量子技术呢？"),
    (chat("What does Article 8 say?", "… [Art. 8]."),
     "Is it easier for Hong Kong people to work in the Bay Area?",
     "Is it easier for Hong Kong people to work in the Bay Area?"),
    (chat("第八条讲了什么？", "…[第八条]。"), "第九条呢？", "第九条呢？"),  # names its own unit
    # "anywhere else" / 别的地方: a new question (its "it" and "there" point at nothing), asked without the cited units
    (chat("Where does the plan talk about a world-class port cluster?", "Art. 2 (…) states: … [Art. 2]."),
     "Do ports come up anywhere else? What does it say there?",
     "Do ports come up anywhere else? What does it say there?"),
    (chat("文件里“一老一小”出现在哪一条？", "第二十五条（…）提出：…[第二十五条]。"),
     "除了这一条，别的地方还有讲养老或者育幼的吗？", "除了这一条，别的地方还有讲养老或者育幼的吗？"),
    (chat("How can consumer spending be boosted?", "Art. 5 (…) states: … [Art. 5]."),
     "Different question: what does it say about workers' pay?",
     "what does it say about workers' pay?"),  # a change of subject: "it" is the document
    (chat("Does it say anything about rural e-commerce?", "Art. 18 (…) states: … [Art. 18]."),
     "Totally unrelated — the plan says to 'cultivate new types of consumption'. Does it spell out what those are?",
     "the plan says to 'cultivate new types of consumption'. Does it spell out what those are?"),
    (chat("新能源汽车产业在文件里是怎么布局的？", "…[第八条]。"), "顺便问一下，它对农民工落户有什么说法？",
     "它对农民工落户有什么说法？"),
    # elliptical follow-ups with a slot of the same kind: the previous question with the new topic
    (chat("广州在文件里的定位是什么？", "第四条（…）提出：…[第四条]。"), "那深圳呢？", "深圳在文件里的定位是什么？"),
    (chat("横琴在文件里是什么定位？", "…[第三条]。"), "前海呢？", "前海在文件里是什么定位？"),
    (chat("横琴有什么安排？", "…[第三条]。", "前海呢？", "…[第三条]。"), "那南沙呢？", "南沙有什么安排？"),
    (chat("What does the plan say about Hengqin?", "… [Art. 3].", "What about Qianhai?", "… [Art. 3]."),
     "And Nansha?", "What does the plan say about Nansha?"),
    (chat("What role does Guangzhou play in the plan?", "… [Art. 4]."), "And Shenzhen?",
     "What role does Shenzhen play in the plan?"),
    (chat("What are the 2027 goals?", "… [Part I]."), "And for 2035?", "What are the 2035 goals?"),
    # across languages: a place or a year is swapped into the previous question in its own language
    (chat("广州在文件里的定位是什么？", "…[第四条]。"), "What about Shenzhen?", "深圳在文件里的定位是什么？"),
    (chat("What does the plan say about Hengqin?", "… [Art. 3]."), "那前海呢？",
     "What does the plan say about Qianhai?"),
    (chat("What are the 2027 goals?", "… [Part I]."), "那2035年呢？", "What are the 2035 goals?"),
    # pointing back: the unit the previous answer cited first
    (chat("第二十二条讲了什么？", "第二十二条（…）提出：…[第二十二条]。"), "这一条还提到了哪些国家公园？",
     "第二十二条 这一条还提到了哪些国家公园？"),
    (chat("Which article covers food security?", "Art. 28 (…) states: … [Art. 28]. Art. 20 (…) states: … [Art. 20]."),
     "What seed industry project does it mention?", "Article 28 What seed industry project does it mention?"),
    (chat("第八条讲了什么？", "第八条（…）提出：…[第八条]。"), "What traditional industries does this article mention?",
     "Article 8 What traditional industries does this article mention?"),
    (chat("What are the 2027 goals?", "Part I (…) states: … [Part I]."), "它还说了什么？", "第一部分 它还说了什么？"),
    (["第五条讲了什么？"], "它对住房有什么要求？", "第五条 它对住房有什么要求？"),  # plain previous questions
    # pointing back to a place (那边, there): the previous question's place in its stead, the topic the question's own
    (chat("横琴合作区的企业所得税有什么优惠？", "…[第三十六条]。"), "那在那边上班的澳门人，个税怎么算？",
     "那在横琴上班的澳门人，个税怎么算？"),  # 澳门 is named by the question itself: not the place meant
    (chat("What does the plan say about Qianhai?", "… [Art. 3]."), "当地有什么金融政策？", "前海有什么金融政策？"),
    (chat("深圳在文件里的定位是什么？", "…[第四条]。"), "Are there any rules on housing there?",
     "Are there any rules on housing in Shenzhen?"),
    # a sentence's capitalised first word is not a place ("Under the Hengqin … regulation"); a run of capitalised
    # words is the known places it is made of ("Hengqin Guangdong-Macao")
    (chat("Under the Hengqin cooperation zone regulation, what tax breaks do companies get?", "… [Art. 37]."),
     "And for the people who work there — how is their personal income tax handled?",
     "And for the people who work in Hengqin — how is their personal income tax handled?"),
    (chat("Under the Hengqin Guangdong-Macao cooperation zone regulation, what corporate income tax rate applies?",
          "… [Art. 37]."), "What about the people who work there?", "What about the people who work in Hengqin?"),
    (chat("What does the plan say about Qianhai?", "… [Art. 3]."), "Is there anything on pensions?",
     "Is there anything on pensions?"),  # existential "is there"
    (chat("What does the plan say about Qianhai?", "… [Art. 3]."), "Anything in there about EV charging?",
     "Anything in there about EV charging?"),  # "in there": the document
    # the unit a citation names where it names it, though its quote repeats it in another form (第四章 after Chapter IV)
    (chat("Under the Hengqin cooperation zone regulation, which industries does the zone focus on?",
          "According to the document:\n《横琴粤澳深度合作区发展促进条例》, Chapter IV states: (Chinese original) 第四章 促进产业"
          "发展[《横琴粤澳深度合作区发展促进条例》, Chapter IV]。"), "What else does it say?",
     "Part IV of 《横琴粤澳深度合作区发展促进条例》 What else does it say?"),
    # referring to a document by its kind alone (条例, "that law"): asked over the document the last answer cited
    (chat("外商投资企业被政府部门侵权可以投诉吗？",
          "《广东省外商投资权益保护条例》第二十四条（…）提出：…[《广东省外商投资权益保护条例》第二十四条]。"),
     "还有个顾虑：条例有没有要求政府部门保密？", "《广东省外商投资权益保护条例》 还有个顾虑：条例有没有要求政府部门保密？"),
    (chat("What housing support does Guangzhou give young founders?",
          "Guangzhou Youth Innovation Regulations, Art. 22 states: … [Guangzhou Youth Innovation Regulations, Art. 22]."),
     "And who counts as young under that law?", "Guangzhou Youth Innovation Regulations who counts as young under that law?"),
    (chat("外商投资企业被政府部门侵权可以投诉吗？",
          "《广东省外商投资权益保护条例》第二十四条（…）提出：…[《广东省外商投资权益保护条例》第二十四条]。"),
     "那知识产权保护条例怎么说？", "那知识产权保护条例怎么说？"),  # names a document of its own
    (chat("What does the plan say about Qianhai?", "… [Art. 3]."), "What do the rules say about it?",
     "Article 3 What do the rules say about it?"),  # no document named by the citation: a pointer as before
]

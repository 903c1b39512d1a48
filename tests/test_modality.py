"""Modality scope rules on handmade, deliberately awkward sentences."""
from __future__ import annotations

import pytest

from helpers.coding.modality import clause_bounds, heading_prohibits, modality_basis, modality_of


def span(text: str, word: str, nth: int = 0) -> tuple[int, int]:
    start = -1
    for _ in range(nth + 1):
        start = text.index(word, start + 1)
    return start, start + len(word)


@pytest.mark.parametrize("text, word, expected", [
    # the brief's case: one sentence, two modalities
    ("可以联系家人，但禁止辱骂", "联系家人", "prescribed"),
    ("可以联系家人，但禁止辱骂", "辱骂", "prohibited"),
    # a strong cue reaches across a comma, until a clause opens with a directive/contrast
    ("严禁在晚上十点后拨打电话，轰炸通讯录", "轰炸", "prohibited"),
    ("禁止辱骂客户，可以联系家人", "联系家人", "prescribed"),
    ("禁止辱骂客户，但要每天打电话", "每天打电话", "prescribed"),
    # a weak cue stays in its own clause
    ("不要一开始就吵架，这样后续工作不好进展，之后联系家人", "联系家人", "prescribed"),
    ("不要一开始就联系家人", "联系家人", "prohibited"),
    ("客户不能按时还款时，联系家人施压", "联系家人", "prescribed"),
    # double negation and idioms are not prohibitions
    ("迫不得已时，不得不联系家人", "联系家人", "prescribed"),
    ("不能不联系担保人", "担保人", "prescribed"),
    ("录音是不可或缺的证据", "证据", "prescribed"),
    ("若无法避免与客户发生肢体冲突，则要保证正当防卫", "肢体冲突", "prescribed"),
    ("他们真不要脸，爆了我的通讯录", "通讯录", "reported"),
    ("特别是要联系他的生意伙伴", "生意伙伴", "prescribed"),
    ("千万别上门", "上门", "prohibited"),
    # a post-position cue closes the clause
    ("任何骂人行为一旦发现要坚决予以开除", "骂人", "prohibited"),
    ("辱骂客户的行为要坚决杜绝", "辱骂", "prohibited"),
    ("联系家人禁止辱骂客户", "联系家人", "prescribed"),
    # narration: news, court, complaint voice, an institution's own account
    ("据报道，某银行对严重逾期客户名单予以公示", "公示", "reported"),
    ("被告人多次上门滋扰被害人", "上门", "reported"),
    ("催收员天天打我电话，还威胁我", "威胁", "reported"),
    ("他们爆了我的通讯录", "通讯录", "reported"),
    ("实践中我行使用得多的催收方法有上门催收法", "上门", "reported"),
    # a prohibition inside a reported sentence is still a prohibition of the mention
    ("据报道，该平台规定严禁暴力催收", "暴力", "prohibited"),
    # directives
    ("催收时应时时跟进，可时不时发祝福语给客户", "祝福语", "prescribed"),
    ("必须在还款日前提醒客户", "还款日前", "prescribed"),
    # any source attribution and court findings narrate (据<source>反映/通报, 经查)
    ("据多名借款人反映，该平台催收员冒充律师打电话", "冒充", "reported"),
    ("经查，其雇佣人员多次到债务人家中滋扰", "滋扰", "reported"),
    # the narrator's own past practice is narration, even in a training write-up
    ("以前我们总觉得催收就是找家人还钱", "找家人", "reported"),
    ("部分网贷平台的催收员会冒充公检法人员", "冒充", "reported"),
    ("张某曾多次上门，在其门口张贴欠款信息", "张贴", "reported"),
    ("某网贷平台逾期后爆了借款人的通讯录", "通讯录", "reported"),
    ("经审理，被害人因不堪骚扰报警", "骚扰", "reported"),
    # a directive or a recommendation anywhere makes the whole sentence an instruction
    ("黑名单的作用有限，赶紧给他打电话", "黑名单", "prescribed"),
    ("在合法的前提下，公开名单比自己去找效果更好", "公开名单", "prescribed"),
    ("催回欠款最有效的办法是请村干部出面", "村干部", "prescribed"),
])
def test_modality_without_context(text, word, expected):
    assert modality_of(text, span(text, word)) == expected


def test_default_without_any_cue_is_prescribed_and_context_default_overrides():
    text = "前三天每日电话催要"
    assert modality_of(text, span(text, "每日电话")) == "prescribed"
    assert modality_of(text, span(text, "每日电话"), {"default": "reported"}) == "reported"


def test_recommendation_outranks_a_narrative_documents_default():
    text = "这种方法最有效，借助公安力量催收"
    assert modality_of(text, span(text, "公安力量"), {"default": "reported"}) == "prescribed"
    plain = "借助公安力量催收"
    assert modality_of(plain, span(plain, "公安力量"), {"default": "reported"}) == "reported"


@pytest.mark.parametrize("heading, text, word, expected", [
    ("文明催收七条禁令：", "在客户家门口张贴欠款信息", "张贴", "prohibited"),
    ("禁止以下行为：", "凌晨给客户打电话", "打电话", "prohibited"),
    ("规避法律所禁止的行为具体做法如下：", "有一些人的做法是将客户扣留", "扣留", "prohibited"),
    # the sentence's own directive outranks the heading
    ("禁止以下行为：", "进入民宅时要争取客户同意", "进入民宅", "prescribed"),
    # a heading that prohibits nothing changes nothing
    ("催收技巧如下：", "凌晨给客户打电话", "打电话", "prescribed"),
])
def test_heading_context(heading, text, word, expected):
    assert modality_of(text, span(text, word), heading) == expected
    assert modality_of(text, span(text, word), {"heading": heading}) == expected


def test_heading_prohibits_and_clause_bounds():
    assert heading_prohibits("文明催收七条禁令")
    assert not heading_prohibits("催收注意事项")
    assert not heading_prohibits(None)
    assert clause_bounds("甲乙，丙丁；戊", 3) == (3, 5)


def test_bad_span_and_bad_default_raise():
    with pytest.raises(ValueError):
        modality_of("联系家人", (2, 9))
    with pytest.raises(ValueError):
        modality_of("联系家人", (0, 2), {"default": "maybe"})


@pytest.mark.parametrize("text, word, expected", [
    # a writer's own recommendation inside a narrative (coding note 1): 只有…才能…
    ("只有专人负责，层层施压才能见效", "层层施压", "prescribed"),
    ("赶紧把这个名单发给他", "名单", "prescribed"),
    # without a directive the narrative default stands
    ("催收员层层施压", "层层施压", "reported"),
    ("只有一个人去了他家", "他家", "reported"),  # 只有 without 才 is no recommendation
])
def test_recommendations_inside_narrative_documents(text, word, expected):
    assert modality_of(text, span(text, word), {"default": "reported"}) == expected


@pytest.mark.parametrize("text, word, context, expected", [
    ("严禁辱骂客户", "辱骂", None, ("prohibited", "scope")),
    ("每日拨打不超过两次", "拨打", None, ("prohibited", "limit")),
    ("外呼时段为每日9:00至20:00", "外呼", None, ("prohibited", "limit")),
    ("被告人多次辱骂被害人，构成寻衅滋事罪", "辱骂", None, ("reported", "reported")),  # narrated: stays reported (rule 7)
    ("辱骂他人的，构成违法", "辱骂", None, ("prohibited", "unlawful")),
    ("被告人多次辱骂被害人", "辱骂", None, ("reported", "reported")),
    ("可以联系家人", "家人", None, ("prescribed", "directive")),
    ("联系家人", "家人", {"default": "reported"}, ("reported", "default")),
    ("对方辱骂、推搡的，立即报警", "辱骂", None, ("prohibited", "unlawful")),
    # a yes/no question whether conduct is a crime declares nothing (the advice genre's default decides)
    ("催收爆通讯录会构成犯罪吗？", "爆通讯录", {"default": "reported"}, ("reported", "reported")),
    # 事宜 is no directive: the item stays under its prohibiting heading
    ("在借款人办理婚丧事宜期间催收", "催收", {"heading_prohibits": True}, ("prohibited", "heading")),
])
def test_modality_basis_names_the_rule_that_decided(text, word, context, expected):
    assert modality_basis(text, span(text, word), context) == expected
    assert modality_of(text, span(text, word), context) == expected[0]


def test_a_dated_case_in_a_rulebook_is_reported():
    """Rule 7 over rule 11: a statute-like text that tells a dated case reports the conduct in it."""
    from helpers.coding.modality import modality_of
    text = "2023年某消费金融公司因外包催收机构使用爆通讯录等违规手段，被监管部门处以罚款。"
    span = (text.index("爆通讯录"), text.index("爆通讯录") + 4)
    context = {"normative": True, "default": "prescribed"}
    assert modality_of(text, span, context) == "reported"
    duty = "催收机构不得使用爆通讯录等手段。"
    assert modality_of(duty, (duty.index("爆"), duty.index("爆") + 4), context) == "prohibited"

"""helpers.escalate and helpers.coding.stages: stage cues, outline inheritance (rule 12), intensity, trend statistics.

Also guards corpus/lexicons/stages.yaml: every cue listed there must stage a sentence
built around it, and the counter-examples below must stay unstaged.
"""
from __future__ import annotations

import itertools
import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
import pandas as pd
import pytest
import yaml

from helpers import paths
from helpers.escalate import (
    STAGES, assign_stages, cue_counts, escalation_ladder, find_stage_cues, intensity_by_position,
    intensity_by_stage, ladder_slopes, list_marker, load_stages, ordinal_trend, reweight, stage_of_text,
    sensitivity, stage_units, staged_mentions, tactic_mix, trend_test, vocabulary_table,
)

ST = load_stages()
ALT = load_stages(mapping="month_buckets")


def sentences_of(docs: dict[str, str]) -> pd.DataFrame:
    """A contract-shaped sentences table from handmade texts: paragraphs on \\n, sentences on 。！？；."""
    rows = []
    for doc, text in docs.items():
        sent, pos = 0, 0
        for para, line in enumerate(text.split("\n")):
            for m in re.finditer(r"[^。！？；!?;]+[。！？；!?;]?", line):
                body = m.group(0).strip()
                if not body:
                    continue
                start = pos + m.start() + (len(m.group(0)) - len(m.group(0).lstrip()))
                rows.append({"doc": doc, "sent": sent, "para": para, "start": start, "end": start + len(body),
                             "raw_start": start, "raw_end": start + len(body), "text": body})
                sent += 1
            pos += len(line) + 1
    return pd.DataFrame(rows)


def mention(doc, sent, tactic, weight, start, modality="prescribed", cue="x"):
    return {"doc": doc, "sent": sent, "tactic": tactic, "modality": modality, "cue": cue, "start": start,
            "end": start + 1, "raw_start": start, "raw_end": start + 1, "weight": weight}


# ---------------------------------------------------------------- the data file

def _yaml_cues():
    data = yaml.safe_load((paths.LEXICONS / "stages.yaml").read_text(encoding="utf-8"))
    for vocab, by_stage in data["vocabularies"].items():
        for stage, cues in by_stage.items():
            for cue in cues:
                yield vocab, stage, str(cue)


# one example sentence for every regex cue in stages.yaml (the test fails when a new one lacks it)
REGEX_EXAMPLES = {
    "re:逾期后?的?前?(?:二十四|24|四十八|48)(?:个)?小时": ("在逾期后前二十四小时一定要与客户联系", "S1"),
    "re:提前[0-9一二两三四五六七]+天": ("客服需提前3天拨打提醒电话", "S0"),
    "re:(?<![第0-9一二两三四五六七八九十])[0-9一二两三四五六七八九十]+次提醒": ("上下午滚动拨打,即6次提醒", "S0"),
    "re:逾期之?前(?![期0-9一二两三四五六七八九十几])": ("逾期前要提醒客户按时还款", "S0"),
    "re:前期(?=逾期|客户|催收|阶段|案件|[(（])": ("对于前期客户要以礼相待", "S1"),
    "re:早期(?=逾期|客户|催收|阶段|案件|[(（])": ("早期案件以提醒为主", "S1"),
    "re:逾期好?几天": ("您的贷款已经逾期好几天了", "S1"),
    "re:(?<!前)中期(?=逾期|客户|催收|阶段|案件|[(（])": ("中期催收要保持联系", "S2"),
    "re:(?<![中前])后期(?=逾期|客户|催收|阶段|案件|[(（])": ("后期客户要求强力度催收", "S3"),
    "re:^礼[:：]": ("礼:尽量加大拜访密度", "S1"),
    "re:^兵[:：]": ("兵:保存好发货单和欠条", "S3"),
    "re:(进入|通过|启动|转入|提请)(司法|诉讼)程序": ("拒不还款的应提请进入司法程序", "S4"),
    "re:依法(对其(进行)?)?起诉": ("要与法院配合,依法对其进行起诉", "S4"),
    "re:起诉[0-9一二三四五六七八九十百几多]+户": ("今年共起诉50户", "S4"),
}


@pytest.mark.parametrize("vocab,stage,cue", list(_yaml_cues()))
def test_every_cue_in_stages_yaml_stages_a_sentence(vocab, stage, cue):
    if cue.startswith("re:"):
        assert cue in REGEX_EXAMPLES, f"add an example sentence for {cue!r} to REGEX_EXAMPLES"
        text, expected = REGEX_EXAMPLES[cue]
        assert expected == stage
    else:
        text = f"对于{cue}的情况要注意"
    got, label = stage_of_text(text, ST)
    assert got == stage, (text, label)


COUNTER_EXAMPLES = [
    "第一次提醒对方注意说话方式",          # 提醒 alone is not pre-due
    "曾多次提醒贵方还款,但贵方至今未能履行",
    "虽说没有人天生就喜欢当老赖",          # 老赖 alone: prevention advice
    "若延迟还款,按照我司流程是会走司法程序的",  # a threat of litigation, not the stage
    "侮辱诽谤罪是需要对方提起诉讼才会处置的犯罪",
    "既起到延续不良贷款诉讼时效,又可了解贷户情况",
    "是对前期销售、审批金额的不满投诉",      # 前期 = earlier
    "300户以内两天内完成,500户以内三天内完成",  # deadlines
    "原则上每天跟催,最长不得超过两天",
    "在发工资时间点前后集中催收,一般为5日、10日、15日、28日、30日左右",
    "M2增速放缓,货币政策趋紧",                # M2 without a delinquency context
    "要求催收话术控制在45秒~2分钟",
    "这类客户我们首先要了解死亡的真实性",     # 死亡 is not 死亡期
    "我们在前期做了大量的准备工作",          # 前期 = earlier
    "前期投入较大,后期维护成本低",
    "广义货币M2同比增长8.2%",                 # money supply, not a bucket
    "新款M3芯片的电脑",
    "一般3-5天内到账",                        # a range without a delinquency word
    "客户：好的",                             # a script turn
    "逾期前3天",                              # before the due date, or the first three days?
    "型号D-3的设备",                          # D-N without a delinquency word
]


@pytest.mark.parametrize("text", COUNTER_EXAMPLES)
def test_counter_examples_stay_unstaged(text):
    assert stage_of_text(text, ST) == (None, None)


# ---------------------------------------------------------------- day expressions

@pytest.mark.parametrize("text,seed_stage,month_stage", [
    ("A.逾期1~5天短期客户,要求话术简短", "S1", "S1"),
    ("B.逾期6~20天中长期客户,要求保持联系", "S2", "S1"),
    ("C.逾期20+天老赖客户,要求强力度催收", "S3", None),  # month mapping: 20+ → S1, 老赖客户 → S3: two stages
    ("催收分为前期(1—5天)几个阶段", "S1", "S1"),
    ("后期(19—28)的客户", "S3", "S3"),               # the text's own definition of 后期: the name counts
    ("前三天每日电话催要", "S1", "S1"),
    ("逾期4日后再去客户经营场地交谈", "S1", "S1"),   # after day 4 → from day 5
    ("逾期7日后,给客户送达逾期催收函", "S2", "S1"),
    ("逾期第3天开始联系", "S1", "S1"),
    ("逾期三十天以上的账户", "S3", "S2"),            # 以上: from the day after
    ("逾期超过90天的坏账", "S3", "S4"),             # codebook: 20+ days is S3, however many
    ("逾期3个月仍未还款", "S3", "S3"),
    ("逾期一百二十天的账户转入外包", "S3", "S4"),
    ("M2阶段的逾期客户", "S2", "S2"),
    ("逾期M3+的客户", "S3", "S4"),
    # rule 12: a range is staged by where it starts; M1/M2/M3 and ranges with or without 逾期
    ("逾期16-30天的客户", "S2", "S1"),
    ("二、逾期31-60天", "S3", "S2"),
    ("阶段三：逾期60天以上", "S3", "S3"),
    ("逾期20天以上", "S3", "S1"),
    ("逾期20天及以上", "S2", "S1"),
    ("逾期15天以内的客户", "S1", "S1"),
    ("4月12日 逾期已超过30天,再不还款", "S3", "S2"),
    ("网贷逾期两个月,催收天天打电话", "S3", "S2"),
    ("M2客户要重点关注还款意愿", "S2", "S2"),
    ("【M2阶段】", "S2", "S2"),
    ("M2", "S2", "S2"),
    ("M3+：", "S3", "S4"),
    ("M2（逾期31-60天）", "S2", "S2"),            # the bucket's own definition
    ("逾期31-60天（M2）", "S2", "S2"),
    ("前期催收（逾期1-15天）", "S1", "S1"),
    ("中期催收（逾期16-30天）", "S2", "S2"),
    ("逾期前期（1-15天）", "S1", "S1"),
    ("三、后期案件(逾期20天以上)", "S3", "S3"),
    ("第一阶段：到期前", "S0", "S0"),
    ("逾期前要先发短信提醒", "S0", "S0"),
    ("逾期一周的客户", "S2", "S1"),                # N周: N×7 days
    ("逾期1天-3天的客户", "S1", "S1"),
    ("D+1~D+5：电话催收", "S1", "S1"),             # D+N: N days past due
    ("D+6至D+30催收", "S2", "S1"),
    ("到期当天电话确认", "S0", "S0"),
    ("逾期当天即产生罚息", "S1", "S1"),
])
def test_day_ranges_and_buckets_map_through_the_configured_mapping(text, seed_stage, month_stage):
    assert stage_of_text(text, ST)[0] == seed_stage
    assert stage_of_text(text, ALT)[0] == month_stage


def test_range_is_staged_by_the_day_it_starts_on():
    assert ST.stage_of_range(19, 28) == "S2"
    assert ST.stage_of_range(1, 15) == "S1"    # most of its days are S2: the start counts (rule 12)
    assert ST.stage_of_range(16, 30) == "S2"
    assert ST.stage_of_range(31, 60) == "S3"
    assert ST.stage_of_range(0, None) == "S0"
    assert ST.stage_of_day(21) == ST.stage_of_day(91) == ST.stage_of_day(3650) == "S3"  # no day is terminal
    assert ALT.stage_of_day(91) == "S4"


def test_headings_need_no_delinquency_word_for_days_and_buckets():
    assert stage_of_text("第二阶段（1-5天）", ST) == (None, None)
    assert stage_of_text("第二阶段（1-5天）", ST, heading=True) == ("S1", "1-5天")
    assert stage_of_text("三、60天以上", ST, heading=True)[0] == "S3"
    assert stage_of_text("两天内完成", ST, heading=True) == (None, None)   # a deadline, even in a heading
    assert stage_of_text("3天后到期", ST, heading=True) == (None, None)
    assert stage_of_text("D-3至D-1", ST, heading=True)[0] == "S0"


def test_unknown_mapping_and_bad_cues_raise(tmp_path):
    with pytest.raises(ValueError, match="no day → stage mapping"):
        load_stages(mapping="nope")
    bad = yaml.safe_load((paths.LEXICONS / "stages.yaml").read_text(encoding="utf-8"))
    bad["vocabularies"]["grade"]["S9"] = ["x"]
    path = tmp_path / "stages.yaml"
    path.write_text(yaml.safe_dump(bad, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValueError, match="unknown stage"):
        load_stages(path)
    bad = yaml.safe_load((paths.LEXICONS / "stages.yaml").read_text(encoding="utf-8"))
    bad["mappings"]["seed"]["days"]["S1"] = None
    path.write_text(yaml.safe_dump(bad, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValueError, match="open-ended"):
        load_stages(path)


def test_stage_ids_come_from_stages_yaml(tmp_path):
    data = yaml.safe_load((paths.LEXICONS / "stages.yaml").read_text(encoding="utf-8"))
    assert STAGES == tuple(data["stages"]) == ST.ids
    data["stages"]["S5"] = {"name": "after_life", "zh": "来世"}
    data["vocabularies"]["lifecycle"]["S5"] = ["轮回期"]
    path = tmp_path / "stages.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    more = load_stages(path)
    assert more.ids[-1] == "S5" and stage_of_text("进入轮回期", more) == ("S5", "轮回期")


def test_multi_stage_sentence_has_no_single_stage_but_lists_its_cues():
    stage, label = stage_of_text("C遵循先礼后兵的策略。", ST)
    assert stage is None and label == "S1:先礼;S3:后兵"
    cues = find_stage_cues("初级催收进行罚息说明,中级催收展开拉锯战,高级催收采取极端高压", ST)
    assert [c.stage for c in cues] == ["S1", "S2", "S2", "S3", "S4"]
    assert [c.cue for c in cues][-1] == "极端高压"


def test_leftmost_longest_cue_wins():
    assert stage_of_text("每天还款日前二天拨打", ST) == ("S0", "还款日前")   # not 前二天 (S1)
    assert stage_of_text("对于中后期的客户", ST) == ("S2", "中后期")         # not 后期 (S3)


# ---------------------------------------------------------------- known seed sentences (spinning repaired)

SEED = [
    ("A.逾期1~5天短期客户,要求催收话术控制在45秒~2分钟。", "S1"),
    ("B.逾期6~20天中长期客户,要求与客户保持联系,了解客户相关信息,包括不还款原因,客户可能日后还款来源及通话中分析客户弱点。", "S2"),
    ("C.逾期20+天老赖客户,要求强力度催收,拨打高频率电话。", "S3"),
    ("A类客户:(过去3个月无逾期记录),还款日前一天拨打及当天下午2点确认到,即2次提醒。", "S0"),
    ("每月15日&30日为客户还款日,需要求客服提前2天拨打。", "S0"),
    ("C.老赖客户:先联系家人,您好,我是好时贷客服,XX的保险费到期了,现联系不上本人,请您通知他务必今日存入或速回电。", "S3"),
    ("4. 逾期7日后,给客户送达逾期催收函,加大压力,让客户明白逾期时间越长责任越大、罚息越多。", "S2"),
    ("7. 实在不能还款、长时间拖欠不能还款的,应抓紧时间提请进入司法程序。", "S4"),
    ("1、对于前期逾期的客户,催收的重点是态度上要以礼相待,虽然逾期了,但是我们并不是责怪你,只是提醒并知会你一声,让客户有愧疚感。", "S1"),
    ("懂得合理施压施压关键是切中债务人的弱点和要害去施压,越是高级催收,越是要找准客户的弱点进行重点攻击。", "S3"),
    ("我行已经通过司法程序共起诉50多户,有些案件正在法院开庭审理。", "S4"),
    ("话术2.——XX先生/小姐您好,我是好时贷客服,您本期贷款已经逾期好几天了,信用记录对您以后在银行及金融机构的合作关系非常重要。", "S1"),
    ("(2)案件生命期—孕育阶段(未逾期),成长时间(刚开始逾期-开始债务人愧疚感很强,电催以了解更多的真实东西为主),"
     "成熟期(拉锯战时期),衰老期-方法已经用尽,(烦的策略-高频率电话跟进,第三方施压-通过家人、朋友、同事),"
     "死亡期或赌博期-采取极端高压的催收方式。", None),
    ("B.没钱:XX先生/小姐您好,您跟您父母或者亲朋好友借一下,若延迟还款,按照我司流程是会走司法程序的,到时对家人会产生很大的影响。", None),
    ("3、催收时应时时跟进,与客户保持联系,可时不时发祝福语给客户,保持一个良性沟通。", None),
]


@pytest.mark.parametrize("text,stage", SEED)
def test_known_seed_sentences(text, stage):
    assert stage_of_text(text, ST)[0] == stage


# ---------------------------------------------------------------- outline inheritance

REMINDER_PAGE = "\n".join([
    "提醒管理:",
    "重点:还款三要素,时间、金额及还款帐户",
    "每月15日为客户还款日。",
    "催收管理:",
    "一、对于逾期天数分类情况",
    "A.逾期1~5天短期客户,要求话术简短。要求态度友好。",
    "B.逾期6~20天中长期客户,要求与客户保持联系。",
    "二、催收话术",
    "话术1.——您好,请问还款是否已处理?",
])


def _stages_of(docs, **kw):
    out = assign_stages(sentences_of(docs), None, stages=ST, **kw)
    return dict(zip(out["text"], zip(out["stage"], out["stage_source"])))


def test_heading_paragraph_covers_until_next_heading_of_same_level():
    got = _stages_of({"d": REMINDER_PAGE})
    assert got["提醒管理:"] == ("S0", "cue")
    assert got["重点:还款三要素,时间、金额及还款帐户"] == ("S0", "heading")
    assert got["每月15日为客户还款日。"] == ("S0", "heading")
    assert got["催收管理:"] == (None, None)          # a sibling heading closes 提醒管理
    assert got["一、对于逾期天数分类情况"] == (None, None)
    assert got["要求态度友好。"] == ("S1", "heading")  # rest of item A's paragraph
    assert got["B.逾期6~20天中长期客户,要求与客户保持联系。"] == ("S2", "cue")
    assert got["二、催收话术"] == (None, None)
    assert got["话术1.——您好,请问还款是否已处理?"] == (None, None)


def test_items_inherit_from_parent_item_but_plain_paragraphs_after_a_list_do_not():
    page = "\n".join([
        "2、对于中后期的客户,首先需要了解逾期原因。",
        "(1)承诺还款但屡次爽约的,要耐心聆听。",
        "(2)不愿意还款的,可以说明法律影响。索要相关资料。",
        "催收是门学问,需要技巧和策略。",
    ])
    got = _stages_of({"d": page})
    assert got["(1)承诺还款但屡次爽约的,要耐心聆听。"] == ("S2", "heading")
    assert got["(2)不愿意还款的,可以说明法律影响。"] == ("S2", "heading")
    assert got["索要相关资料。"] == ("S2", "heading")      # rest of a sub-item's paragraph
    assert got["催收是门学问,需要技巧和策略。"] == (None, None)


def test_paragraph_opening_with_a_cue_covers_its_paragraph_only():
    page = "对于疑似烂尾的客户,应遵循先礼而后兵的原则。\n礼:加大拜访密度;同时多从语言上捧他。\n兵:保存好欠条;有条件都要备案。\n总之要及时跟进。"
    got = _stages_of({"d": page})
    assert got["对于疑似烂尾的客户,应遵循先礼而后兵的原则。"] == (None, "clauses")
    assert got["同时多从语言上捧他。"] == ("S1", "heading")
    assert got["有条件都要备案。"] == ("S3", "heading")
    assert got["总之要及时跟进。"] == (None, None)


def test_a_cue_late_in_a_sentence_does_not_open_a_scope():
    page = "经过几个月来的不断摸索,我行对长期逾期客户形成压力;另外要做好台账。"
    got = _stages_of({"d": page})
    assert got["经过几个月来的不断摸索,我行对长期逾期客户形成压力;"] == ("S3", "cue")
    assert got["另外要做好台账。"] == (None, None)


def test_a_heading_naming_several_stages_covers_nothing():
    page = "(2)案件生命期—成长期,成熟期,衰老期\n电催以了解情况为主。"
    got = _stages_of({"d": page})
    assert got["(2)案件生命期—成长期,成熟期,衰老期"] == (None, "clauses")
    assert got["电催以了解情况为主。"] == (None, None)


# ---------------------------------------------------------------- rule 12: stage headings of scripts and playbooks

def _staged(text: str, **kw) -> list[tuple[str, str | None, str | None]]:
    """(sentence, stage, source) in reading order: the same sentence may occur twice in a page."""
    out = assign_stages(sentences_of({"d": text}), None, stages=ST, **kw)
    return list(zip(out["text"], out["stage"], out["stage_source"]))


def test_a_stage_heading_stages_script_turns_until_the_next_stage_heading():
    page = "\n".join([
        "第一阶段：到期前",
        "催收员：您好，请问是王先生吗？",
        "客户：是的",
        "催收员：您本期账单三天后到期，请按时还款。",
        "客户：好的",                           # short turns are not headings: they end nothing
        "催收员：感谢您的配合。",
        "第二阶段：逾期1-5天",
        "催收员：王先生，您的账单还没有还。",
        "客户：我都逾期10天了，别催了。",         # the turn's own cue beats the heading …
        "客户：嗯",                               # … and stays in its own turn
        "阶段三：逾期31-60天",
        "催收员：我们将联系您的紧急联系人。",
    ])
    assert [s for _, s, _ in _staged(page)] == ["S0"] * 6 + ["S1", "S1", "S2", "S1"] + ["S3"] * 2
    got = _staged(page)
    assert got[0][2] == "cue" and got[1][2] == "heading" and got[8][2] == "cue"


def test_a_same_level_heading_without_stage_ends_the_scope():
    page = "\n".join([
        "前期催收（逾期1-15天）",
        "以提醒为主，语气要客气。",
        "中期催收（逾期16-30天）",
        "要了解客户的工作单位。",
        "注意事项",                              # unmarked heading without stage: closes 中期催收
        "严禁辱骂客户。",
    ])
    assert [s for _, s, _ in _staged(page)] == ["S1", "S1", "S2", "S2", None, None]


def test_stage_headings_with_list_markers_stage_their_numbered_items_across_paragraphs():
    page = "\n".join([
        "信用卡逾期催收作业指引",
        "一、前期催收（逾期1-15天）",
        "（一）电话提醒",                          # a sub-heading without stage does not end 一、
        "1. 态度要友好。",
        "2. 核实联系方式。",
        "（二）短信提醒",
        "每天发送一次。",
        "二、逾期16-30天",
        "1. 每天至少拨打一次电话。",
        "三、逾期31-60天",
        "1. 可联系客户的单位。",
        "四、注意事项",                            # same-level heading without stage
        "1. 严禁辱骂客户。",
    ])
    assert [s for _, s, _ in _staged(page)] == [
        None, "S1", "S1", "S1", "S1", "S1", "S1", "S2", "S2", "S3", "S3", None, None]


def test_bracketed_bucket_headings_and_traditional_phase_headings():
    page = "\n".join([
        "【M1阶段】",
        "以提醒为主。",
        "【M2阶段】",
        "催收员：您好，您的账单还没有处理。",
        "客户：没钱",
        "【M3阶段】",
        "安排外访。",
        "【注意事项】",
        "全程录音。",
    ])
    assert [s for _, s, _ in _staged(page)] == ["S1", "S1", "S2", "S2", "S2", "S3", "S3", None, None]
    page = "逾期前期（1-15天）\n语气温和，多提醒。\n逾期中期（16-45天）：\n了解还款来源。"
    assert [s for _, s, _ in _staged(page)] == ["S1", "S1", "S2", "S2"]


def test_a_label_opening_a_line_is_a_stage_heading_for_the_lines_under_it():
    page = "\n".join([
        "小鲸贷贷后催收话术",
        "一、还款日前3天：您好，您本期应还2360元，将于本月18日到期。",
        "如已安排还款请忽略本提醒，祝您生活愉快！",
        "二、逾期1-3天：张先生，您的账单已逾期2天，每天会产生罚息。",
        "如果手头确实紧张，我们可以帮您申请分两期还款。",
        "三、后期案件(逾期20天以上)：可告知客户将提起诉讼。",
        "对长期失联的客户，可以到其老家了解情况。",
        "注：每通电话必须全程录音，严禁辱骂客户。",   # a note ends the scope
        "催收是门学问。",
    ])
    assert [s for _, s, _ in _staged(page)] == [None, "S0", "S0", "S1", "S1", "S3", "S3", None, None]


def test_day_ranges_and_buckets_in_headings_need_no_delinquency_word_in_a_collection_text():
    page = "催收作业要点\n1-5天：\n电话提醒为主。\n6-20天：\n联系紧急联系人。\nM3：\n安排外访。"
    assert [s for _, s, _ in _staged(page)] == [None, "S1", "S1", "S2", "S2", "S3", "S3"]
    # a text that never speaks of delinquency has no day-range headings
    assert [s for _, s, _ in _staged("旅行计划\n1-5天：\n游览古城。")] == [None, None, None]


def test_outline_stages_is_the_plain_list_api_of_one_document():
    from helpers.coding.stages import outline_stages

    assert outline_stages(["第一阶段：到期前", "发短信。", "客户：好的"], [0, 1, 2], ST) == [
        ("S0", "到期前", "cue"), ("S0", "到期前", "heading"), ("S0", "到期前", "heading")]
    assert outline_stages(["要耐心。"], [0], ST, title="【M2阶段】话术") == [("S2", "M2", "heading")]


def test_words_meaning_earlier_or_later_do_not_make_a_heading():
    page = "前期准备\n收集客户资料。\n后期工作\n整理档案。"
    assert [s for _, s, _ in _staged(page)] == [None] * 4


def test_document_title_acts_as_outermost_heading_and_documents_are_independent():
    docs = {"a": "要耐心沟通。", "b": "要耐心沟通。"}
    documents = pd.DataFrame({"doc": ["a", "b"], "title": ["逾期M1客户催收指引", "催收心得"]})
    out = assign_stages(sentences_of(docs), None, documents=documents, stages=ST)
    assert out.set_index("doc").loc["a", "stage"] == "S1"
    assert out.set_index("doc").loc["b", "stage"] is None


@pytest.mark.parametrize("text,style", [
    ("1、催收时先了解", "num_dun"), ("(1)逾期时间", "num_paren"), ("（二）催收", "cn_paren"),
    ("一、对于客户", "cn"), ("A.逾期", "latin"), ("3. 逾期", "num_dot"), ("第三条 户籍调取", "article"),
    ("五是依法起诉法", "cn_shi"), ("2.5万元的贷款", None), ("一般来说", None), ("十分乐于", None),
])
def test_list_markers(text, style):
    assert list_marker(text)[0] == style


def test_assign_stages_keeps_rows_and_adds_contract_columns():
    s = sentences_of({"d": REMINDER_PAGE})
    out = assign_stages(s, pd.DataFrame(columns=list(mention("d", 0, "T01", 1, 0)))), None
    out = out[0]
    assert list(out.columns[: len(s.columns)]) == list(s.columns)
    assert {"stage", "stage_cue", "stage_source", "intensity"} <= set(out.columns)
    assert len(out) == len(s) and out["intensity"].isna().all()
    assert set(out["stage"].dropna()) <= set(STAGES)
    assert set(out["stage_source"].dropna()) <= {"cue", "heading", "clauses"}


# ---------------------------------------------------------------- intensity and staged mentions

LIFE = "初级催收进行罚息说明,中级催收展开拉锯战,高级催收采取高频率电话和家人施压。\n逾期20+天客户,联系家人。\n不要骂人。"


def _life_tables():
    s = sentences_of({"d": LIFE})
    t = s.loc[0, "text"]
    m = pd.DataFrame([
        mention("d", 0, "T03", 2, t.index("罚息")),
        mention("d", 0, "T08", 4, t.index("高频率")),
        mention("d", 0, "T07", 4, t.index("家人")),
        mention("d", 1, "T07", 4, s.loc[1, "start"] + s.loc[1, "text"].index("家人")),
        mention("d", 1, "T01", 1, s.loc[1, "start"], modality="reported"),
        mention("d", 2, "T12", 5, s.loc[2, "start"], modality="prohibited"),
    ])
    return assign_stages(s, m, stages=ST), m


def test_intensity_is_max_weight_of_pressure_mentions_only():
    s, _ = _life_tables()
    assert s["intensity"].tolist()[:2] == [4.0, 4.0]
    assert np.isnan(s["intensity"].iloc[2])             # only a prohibited mention


def test_staged_mentions_split_multi_stage_sentences_clause_wise():
    s, m = _life_tables()
    staged = staged_mentions(s, m, stages=ST)
    assert len(staged) == 5                             # the prohibited mention is not pressure
    assert staged["stage"].tolist() == ["S1", "S3", "S3", "S3", "S3"]
    assert staged["stage_source"].tolist() == ["clause", "clause", "clause", "cue", "cue"]
    units = stage_units(staged)
    assert units[["sent", "stage", "intensity", "n_mentions"]].values.tolist() == [
        [0, "S1", 2.0, 1], [0, "S3", 4.0, 2], [1, "S3", 4.0, 2]]
    all_modalities = staged_mentions(s, m, stages=ST, modalities=None)
    assert len(all_modalities) == 6 and all_modalities["stage"].iloc[-1] is None


def test_staged_mentions_names_a_mention_without_its_sentence():
    s, m = _life_tables()
    with pytest.raises(KeyError, match=r"\('d', 1\)"):
        staged_mentions(s[s["sent"] != 1], m, stages=ST)


def test_staged_mentions_keep_row_order_and_index_free_of_the_inputs():
    s, m = _life_tables()
    shuffled = s.sample(frac=1, random_state=0).set_axis(range(100, 100 + len(s)))  # any row order, any index
    moved = m.set_axis(range(50, 50 + len(m)))
    a, b = staged_mentions(s, m, stages=ST), staged_mentions(shuffled, moved, stages=ST)
    pd.testing.assert_frame_equal(a, b)
    assert b.index.tolist() == list(range(len(b)))


def test_tactic_mix_shares_sum_to_one_per_stage():
    s, m = _life_tables()
    mix = tactic_mix(staged_mentions(s, m, stages=ST))
    assert mix.groupby("stage")["share"].sum().round(12).eq(1).all()
    assert mix.loc[(mix.stage == "S3") & (mix.tactic == "T07"), "n"].item() == 2


def test_reweight_replaces_weights_and_rejects_incomplete_schemes():
    _, m = _life_tables()
    flat = reweight(m, {t: 1 for t in m["tactic"]})
    assert flat["weight"].eq(1).all()
    with pytest.raises(ValueError, match="lacks tactics"):
        reweight(m, {"T01": 1})
    assert set(ST.weightings) == {"gray_top", "coercive_binary"}
    for scheme in ST.weightings.values():
        assert set(scheme) == {f"T{i:02d}" for i in range(1, 16)}


# ---------------------------------------------------------------- statistics

def _units(values: dict[str, list[float]], doc="d") -> pd.DataFrame:
    rows = [{"doc": doc, "sent": i, "stage": s, "intensity": v}
            for i, (s, v) in enumerate((s, v) for s, vs in values.items() for v in vs)]
    return pd.DataFrame(rows)


def test_intensity_by_stage_means_and_bootstrap_cis():
    u = _units({"S1": [1, 2, 3, 2], "S3": [4, 4, 5]})
    a = intensity_by_stage(u, n_boot=500, seed=7)
    b = intensity_by_stage(u, n_boot=500, seed=7)
    pd.testing.assert_frame_equal(a, b)
    assert a["stage"].tolist() == ["S1", "S3"] and a["n"].tolist() == [4, 3]
    assert a["mean"].tolist() == pytest.approx([2.0, 13 / 3])
    assert (a["mean_lo"] <= a["mean"]).all() and (a["mean"] <= a["mean_hi"]).all()
    assert a["max"].tolist() == [3.0, 5.0] and (a["max_hi"] == a["max"]).all()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from([1.0, 2.0, 3.0, 4.0, 5.0]), min_size=1, max_size=60),
       st.integers(1, 300), st.integers(1, 50), st.integers(0, 2**32 - 1))
def test_bootstrap_in_blocks_is_the_one_matrix_bootstrap(vals, n_boot, budget, seed):
    """Bounded memory changes nothing: the blocks draw the same resamples as one n_boot × n matrix."""
    import helpers.escalate as esc

    x = np.array(vals)
    draws = np.random.default_rng(seed).choice(x, size=(n_boot, len(x)), replace=True)
    old = esc._BOOT_VALUES
    try:
        esc._BOOT_VALUES = budget  # blocks of budget // n rows (at least one)
        means, maxes = esc._bootstrap_mean_max(x, n_boot, np.random.default_rng(seed))
    finally:
        esc._BOOT_VALUES = old
    assert np.array_equal(means, draws.mean(axis=1)) and np.array_equal(maxes, draws.max(axis=1))


def _jt_brute(groups: list[list[float]]) -> float:
    j = 0.0
    for i, k in itertools.combinations(range(len(groups)), 2):
        for a in groups[i]:
            for b in groups[k]:
                j += 1.0 if a < b else (0.5 if a == b else 0.0)
    return j


def test_trend_test_matches_jonckheere_terpstra_and_detects_direction():
    groups = {"S0": [1, 1, 2], "S1": [1, 2, 2], "S2": [3, 2, 4], "S4": [4, 5, 5]}
    res = trend_test(_units(groups), n_perm=999, seed=1).iloc[0]
    assert res["J"] == pytest.approx(_jt_brute(list(groups.values())))
    assert res["J_expected"] == pytest.approx(sum(3 * 3 for _ in range(6)) / 2)
    assert res["tau_b"] > 0.6 and res["p_perm"] < 0.01 and res["stages"] == "S0,S1,S2,S4"
    down = trend_test(_units({"S0": [5, 4], "S1": [3, 3], "S2": [1, 2]}), n_perm=999, seed=1).iloc[0]
    assert down["tau_b"] < 0 and down["p_perm"] > 0.9
    again = trend_test(_units(groups), n_perm=999, seed=1).iloc[0]
    assert again["p_perm"] == res["p_perm"]


def test_trend_on_many_units_uses_the_normal_approximation_which_agrees_with_permutations():
    """Above PERMUTATION_MAX units (a large corpus) the p comes from tau-b's normal approximation: it must
    agree with a permutation p on the same data (stage ranks with ties, a weak trend)."""
    from scipy import stats

    from helpers.escalate import PERMUTATION_MAX

    rng = np.random.default_rng(7)
    n = PERMUTATION_MAX + 500
    x = rng.integers(0, 5, n).astype(float)
    y = np.round(rng.normal(0, 1, n), 1)  # no trend: p ~ 0.07 for this seed
    res = ordinal_trend(x, y, n_perm=5000, seed=0)
    assert res["p_method"] == "normal approximation" and res["n_perm"] == 0
    tau = stats.kendalltau(x, y).statistic
    perm = np.mean([stats.kendalltau(x, rng.permutation(y)).statistic >= tau for _ in range(400)])
    assert 0.01 < res["p_perm"] < 0.5 and abs(res["p_perm"] - perm) < 0.06
    small = ordinal_trend(x[:100], y[:100], n_perm=99, seed=0)
    assert small["p_method"] == "permutation" and small["n_perm"] == 99


def test_trend_undefined_with_one_stage():
    res = ordinal_trend([1, 1, 1], [1, 2, 3], n_perm=10)
    assert np.isnan(res["tau_b"]) and np.isnan(res["p_perm"])


def test_escalation_ladder_and_slopes():
    u = pd.concat([_units({"S1": [1, 2], "S3": [4]}, doc="up"), _units({"S1": [4], "S2": [2]}, doc="down"),
                   _units({"S2": [3, 3]}, doc="flat")])
    ladder = escalation_ladder(u)
    assert ladder.loc[(ladder.doc == "up") & (ladder.stage == "S1"), "mean_intensity"].item() == 1.5
    slopes = ladder_slopes(u).set_index("doc")
    assert slopes.loc["up", "escalates"] and not slopes.loc["down", "escalates"]
    assert not slopes.loc["flat", "escalates"] and np.isnan(slopes.loc["flat", "slope"])
    assert slopes.loc["up", "slope"] == pytest.approx(np.polyfit([1, 1, 3], [1, 2, 4], 1)[0])
    assert slopes.loc["up", ["first_stage", "last_stage", "n_stages"]].tolist() == ["S1", "S3", 2]


def _slopes_one_by_one(units):
    """ladder_slopes as first written: np.polyfit and scipy's kendalltau per article (the oracle)."""
    from scipy import stats

    rows = []
    for doc, u in units.groupby("doc", sort=True):
        x = u["stage"].map({s: i for i, s in enumerate(STAGES)}).to_numpy(float)
        y = u["intensity"].to_numpy(float)
        distinct = np.unique(x)
        slope = tau = np.nan
        if len(distinct) >= 2:
            slope = round(float(np.polyfit(x, y, 1)[0]), 9) + 0.0
            tau = float(stats.kendalltau(x, y).statistic) if len(np.unique(y)) > 1 else 0.0
        rows.append({"doc": doc, "n_units": len(u), "n_stages": len(distinct),
                     "first_stage": STAGES[int(distinct.min())], "last_stage": STAGES[int(distinct.max())],
                     "slope": slope, "tau_b": tau, "escalates": bool(len(distinct) >= 2 and slope > 0)})
    return pd.DataFrame(rows)


unit_rows = st.lists(st.tuples(st.sampled_from(["a", "b", "c", "d"]), st.sampled_from(list(STAGES)),
                               st.sampled_from([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 2.5])), min_size=1, max_size=40)


@settings(max_examples=300, deadline=None)
@given(unit_rows)
def test_ladder_slopes_equal_polyfit_and_scipy_per_article(rows):
    units = pd.DataFrame(rows, columns=["doc", "stage", "intensity"]).assign(sent=lambda d: range(len(d)))
    got, expected = ladder_slopes(units), _slopes_one_by_one(units)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, rtol=0, atol=0)


def test_ladder_slopes_count_pairs_in_blocks_of_articles(monkeypatch):
    from helpers import escalate

    rng = np.random.default_rng(7)
    units = pd.DataFrame({"doc": rng.choice([f"d{i:02d}" for i in range(25)], 400),
                          "stage": rng.choice(list(STAGES), 400), "intensity": rng.integers(0, 6, 400).astype(float)})
    monkeypatch.setattr(escalate, "_BLOCK", 4)  # 25 articles in 7 blocks
    pd.testing.assert_frame_equal(ladder_slopes(units), _slopes_one_by_one(units), check_dtype=False, rtol=0, atol=0)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b"]), st.integers(0, 3), st.sampled_from(list(STAGES)),
                          st.sampled_from(["T01", "T02", "T07", "T10"]), st.integers(1, 5)), min_size=1, max_size=30))
def test_stage_units_list_each_units_distinct_tactics(rows):
    staged = pd.DataFrame(rows, columns=["doc", "sent", "stage", "tactic", "weight"])
    units = stage_units(staged)
    for u in units.itertuples():
        mine = staged[(staged.doc == u.doc) & (staged.sent == u.sent) & (staged.stage == u.stage)]
        assert u.tactics == ";".join(sorted(set(mine.tactic))) and u.n_mentions == len(mine)
        assert u.intensity == mine.weight.max()
    assert len(units) == len(staged.drop_duplicates(["doc", "sent", "stage"]))


def test_intensity_by_position_bins():
    s = pd.DataFrame({"doc": ["d"] * 4, "sent": range(4), "start": [0, 10, 20, 30], "end": [10, 20, 30, 40],
                      "text": ["x"] * 4, "intensity": [1.0, np.nan, 3.0, 5.0]})
    b = intensity_by_position(s, bins=2)
    assert b["n_sentences"].tolist() == [2, 2] and b["n_pressure"].tolist() == [1, 2]
    assert b["mean_intensity"].tolist() == [1.0, 4.0] and b["share_pressure"].tolist() == [0.5, 1.0]


# ---------------------------------------------------------------- vocabulary tables

def test_vocabulary_table_covers_every_stage_and_the_day_mapping():
    v = vocabulary_table(ST)
    assert set(v["stage"]) == set(STAGES)
    days = v[v.vocabulary == "days"].set_index("stage")["cues"]
    assert days["S1"] == "1-5 days" and days["S3"] == "≥ 21 days" and "S4" not in days
    alt = vocabulary_table(ALT).set_index(["vocabulary", "stage"])["cues"]
    assert alt[("days", "S2")] == "31-60 days" and alt[("days", "S4")] == "≥ 91 days"


def test_cue_counts():
    c = cue_counts(pd.DataFrame({"text": ["逾期1~5天客户", "初级催收。初级催收", "无"]}), ST)
    assert c[["stage", "cue", "n"]].values.tolist() == [["S1", "逾期1~5天", 1], ["S1", "初级催收", 1]]


def test_sensitivity_has_one_row_per_weighting_and_mapping():
    s, m = _life_tables()
    out = sensitivity(s, m, n_perm=50, seed=3)
    assert len(out) == 3 * 2 and set(out["mapping"]) == {"seed", "month_buckets"}
    base = out[(out.weighting == "codebook") & (out.mapping == "seed")].iloc[0]
    assert base["mean_S1"] == 2.0 and base["mean_S3"] == 4.0 and np.isnan(base["mean_S0"])
    binary = out[(out.weighting == "coercive_binary") & (out.mapping == "seed")].iloc[0]
    assert binary["mean_S1"] == 0.0 and binary["mean_S3"] == 1.0


def test_sensitivity_checks_weightings_against_every_tactic_of_the_corpus(tmp_path):
    s, m = _life_tables()  # T12 occurs only as a prohibited mention: still a tactic a weighting must cover
    data = yaml.safe_load((paths.LEXICONS / "stages.yaml").read_text(encoding="utf-8"))
    for weights in data["weightings"].values():
        weights.pop("T12", None)
    broken = tmp_path / "stages.yaml"
    broken.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValueError, match="lacks tactics.*T12"):
        sensitivity(s, m, stages_path=broken, n_perm=10)


# ---------------------------------------------------------------- the real pipeline on the seed

@pytest.fixture(scope="module")
def seed_tables():
    for module in ("helpers.clean", "helpers.segment", "helpers.coding.tactics", "helpers.coding.legal"):
        pytest.importorskip(module)
    import logging

    import jieba
    jieba.setLogLevel(logging.WARNING)
    from helpers.run import study_tables
    return study_tables(tokens=False)


SEED_IN_CONTEXT = [  # (start of a sentence in the cleaned seed, stage the text states or implies, source)
    ("提醒管理", "S0", "cue"),
    ("重点:还款三要素", "S0", "heading"),
    ("A.逾期1~5天", "S1", "cue"),
    ("C.逾期20+天老赖客户", "S3", "cue"),
    ("联系单位:您好", "S3", "heading"),          # rest of item C.老赖客户's paragraph
    ("同时可以多从语言上捧他", "S1", "heading"),  # under 礼:
    ("另外,对账单或欠条的法律效力只有二年", "S3", "heading"),  # under 兵:
    ("(2)不愿意还款的", "S2", "heading"),         # sub-item of 2、对于中后期的客户
    ("初级催收主要是对客户进行简单的信用教育", None, "clauses"),
    ("3、催收时应时时跟进", None, None),
]


@pytest.mark.parametrize("opening,stage,source", SEED_IN_CONTEXT)
def test_seed_sentences_in_context(seed_tables, opening, stage, source):
    s = seed_tables["sentences"]
    hit = s[s["text"].str.startswith(opening)]
    assert len(hit), f"sentence starting {opening!r} not found in the cleaned seed"
    row = hit.iloc[0]
    assert (row["stage"], row["stage_source"]) == (stage, source)


def test_seed_clause_stages_of_the_life_cycle_sentence(seed_tables):
    s, m = seed_tables["sentences"], seed_tables["mentions"]
    staged = staged_mentions(s, m)
    row = s[s["text"].str.contains("孕育阶段")].iloc[0]
    life = staged[(staged.doc == row["doc"]) & (staged.sent == row["sent"])]
    assert len(life) and life["stage"].notna().all()
    assert life["stage"].is_monotonic_increasing          # clause stages follow the text's order
    assert life.loc[life["cue"].str.contains("极端高压"), "stage"].eq("S4").all()


def test_a_numbered_stage_heading_after_an_unpunctuated_line_heads_its_own_section():
    """第二个阶段：… after a line that lacks its full stop is not glued to it (rule 12: the heading stages what follows)."""
    import tempfile
    from pathlib import Path
    from helpers.run import study_tables
    page = ("第一个阶段:逾期前——提醒+教导\n这个阶段主要以提醒和教导客户为主,有效的减少逾期\n"
            "第二个阶段:逾期前期——了解+纠正\n在这个阶段,主要任务是了解客户逾期的原因。\n")
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "a.txt").write_text(page, encoding="utf-8")
        sentences = study_tables(tmp, tokens=False)["sentences"]
    under = sentences[sentences["text"].str.startswith("在这个阶段")]
    assert under["stage"].tolist() == ["S1"]

"""Draw the blind validation sample from the seed corpus (run once; output committed).

Procedure (also in README.md beside this file):
1. Clean and sentence-split the bundled corpus with the project's pipeline
   (helpers.corpus → helpers.clean → helpers.segment); drop duplicate documents.
2. From every article draw 10 sentences of ≥ 6 characters uniformly at random.
3. Add up to 5 further sentences per screening category, drawn at random among
   sentences containing one of the *example cues printed in the study's
   codebook.md* for that category (rare tactics and modalities), so rare codes
   appear. The machine coder's own cue lists are never used.
4. Shuffle with a fixed seed; items are numbered v001…; the hand coder sees
   item, article title, the previous sentence as context, and the sentence.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from helpers import paths
from helpers.clean import clean_corpus
from helpers.corpus import load_corpus
from helpers.segment import split_sentences
from helpers.validate import draw_sample

HERE = Path(__file__).parent

# Example cues copied from ../shared/study/codebook.md (§1 and §2), grouped by category.
SCREEN = {
    "T02_credit_threat": ["征信", "信用记录", "黑名单", "影响以后的贷款"],
    "T03_fee_threat": ["罚息", "滞纳金", "违约金", "扣款失败费"],
    "T04_legal_threat": ["起诉", "司法程序", "律师函", "法院", "失信被执行人", "法律责任"],
    "T06_investigation": ["背景", "资产状况", "户籍", "114", "百度", "人人网", "手机详单", "挖掘"],
    "T07_third_party": ["联系人", "家人", "父母", "子女", "单位领导", "村委", "居委会", "生意伙伴", "担保"],
    "T08_high_frequency": ["高频率", "不同时段", "滚动拨打", "烦", "轮番"],
    "T09_field_visit": ["上门", "外访", "家访", "拜访", "经营地"],
    "T10_deception": ["保险费", "冒充", "角色扮演"],
    "T11_public_exposure": ["公示", "悬赏", "举牌", "通报批评", "名单发给"],
    "T12_psychological_pressure": ["弱点", "痛点", "攻心", "心理", "极端高压", "愧疚", "施压"],
    "T13_institutional_leverage": ["公安", "经侦", "纪检", "监察", "停职", "德高望重"],
    "T14_asset_action": ["拖车", "查封", "断货", "以备执行", "变卖", "现金"],
    "T15_safeguard": ["录音", "留痕", "证据", "文明催收", "2人以上", "意外伤害险"],
    "prohibited": ["禁止", "杜绝", "不要", "不可", "不得", "严禁", "避免", "切忌", "万不可"],
    "reported": ["据报道", "推出", "实践中"],
}


def main() -> int:
    docs, errors = load_corpus(paths.RAW)
    documents, edits = clean_corpus(docs)
    sentences = split_sentences(documents, edits)
    sample = draw_sample(sentences, documents, SCREEN)
    prev = sentences.set_index(["doc", "sent"]).text
    sample.insert(5, "context", [prev.get((d, s - 1), "") for d, s in zip(sample.doc, sample.sent)])
    sample.drop(columns=["doc", "sent"]).to_csv(HERE / "sample_to_code.csv", index=False)
    print(f"{len(sample)} items written to {HERE / 'sample_to_code.csv'}", file=sys.stderr)
    print(sample.stratum.str.split(":").str[0].value_counts().to_string(), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

from __future__ import annotations

import random

import pytest

from common._cli import UserError
from objectives.data._dataset import Entity, Example
from objectives.encoding._markers import (
    ENTITY_TYPES,
    SCHEMES,
    Marked,
    all_special_tokens,
    char_to_token,
    check_entities,
    mark,
    mark_example,
    markers,
    special_tokens,
)


def entity(sentence: str, word: str, entity_type: str, nth: int = 0) -> Entity:
    start = -1
    for _ in range(nth + 1):
        start = sentence.index(word, start + 1)
    return Entity(word, start, start + len(word) - 1, entity_type)


# case: (sentence, subject word, subject type, object word, object type, {scheme: expected text})
CASES = {
    "subject_first": (
        "그때 이순신은 조선의 장군이었다.",
        ("이순신", "PER"),
        ("조선", "LOC"),
        {
            "entity": "그때 [E1] 이순신 [/E1]은 [E2] 조선 [/E2]의 장군이었다.",
            "typed_punct": "그때 @ * PER * 이순신 @은 # ^ LOC ^ 조선 #의 장군이었다.",
            "typed_entity": "그때 <S:PER> 이순신 </S:PER>은 <O:LOC> 조선 </O:LOC>의 장군이었다.",
        },
    ),
    "object_first": (
        "비틀즈의 멤버 조지 해리슨은 기타를 쳤다.",
        ("조지 해리슨", "PER"),
        ("비틀즈", "ORG"),
        {
            "entity": "[E2] 비틀즈 [/E2]의 멤버 [E1] 조지 해리슨 [/E1]은 기타를 쳤다.",
            "typed_punct": "# ^ ORG ^ 비틀즈 #의 멤버 @ * PER * 조지 해리슨 @은 기타를 쳤다.",
            "typed_entity": "<O:ORG> 비틀즈 </O:ORG>의 멤버 "
            "<S:PER> 조지 해리슨 </S:PER>은 기타를 쳤다.",
        },
    ),
    "adjacent_subject_first": (
        "그는 애플CEO였다.",
        ("애플", "ORG"),
        ("CEO", "POH"),
        {
            "entity": "그는 [E1] 애플 [/E1][E2] CEO [/E2]였다.",
            "typed_punct": "그는 @ * ORG * 애플 @# ^ POH ^ CEO #였다.",
            "typed_entity": "그는 <S:ORG> 애플 </S:ORG><O:POH> CEO </O:POH>였다.",
        },
    ),
    "adjacent_object_first": (
        "그는 애플CEO였다.",
        ("CEO", "POH"),
        ("애플", "ORG"),
        {
            "entity": "그는 [E2] 애플 [/E2][E1] CEO [/E1]였다.",
            "typed_punct": "그는 # ^ ORG ^ 애플 #@ * POH * CEO @였다.",
            "typed_entity": "그는 <O:ORG> 애플 </O:ORG><S:POH> CEO </S:POH>였다.",
        },
    ),
    "at_start": (
        "세종은 1397년에 태어났다.",
        ("세종", "PER"),
        ("1397년", "DAT"),
        {
            "entity": "[E1] 세종 [/E1]은 [E2] 1397년 [/E2]에 태어났다.",
            "typed_punct": "@ * PER * 세종 @은 # ^ DAT ^ 1397년 #에 태어났다.",
            "typed_entity": "<S:PER> 세종 </S:PER>은 <O:DAT> 1397년 </O:DAT>에 태어났다.",
        },
    ),
    "at_end": (
        "이 노래를 부른 가수는 아이유",
        ("이 노래", "NOH"),
        ("아이유", "PER"),
        {
            "entity": "[E1] 이 노래 [/E1]를 부른 가수는 [E2] 아이유 [/E2]",
            "typed_punct": "@ * NOH * 이 노래 @를 부른 가수는 # ^ PER ^ 아이유 #",
            "typed_entity": "<S:NOH> 이 노래 </S:NOH>를 부른 가수는 <O:PER> 아이유 </O:PER>",
        },
    ),
    "korean_multi_word": (
        "문재인은 대한민국 제19대 대통령이다.",
        ("문재인", "PER"),
        ("대한민국 제19대 대통령", "POH"),
        {
            "entity": "[E1] 문재인 [/E1]은 [E2] 대한민국 제19대 대통령 [/E2]이다.",
            "typed_punct": "@ * PER * 문재인 @은 # ^ POH ^ 대한민국 제19대 대통령 #이다.",
            "typed_entity": "<S:PER> 문재인 </S:PER>은 "
            "<O:POH> 대한민국 제19대 대통령 </O:POH>이다.",
        },
    ),
}


def case_entities(name: str) -> tuple[str, Entity, Entity]:
    sentence, (subj, subj_type), (obj, obj_type), _ = CASES[name]
    return sentence, entity(sentence, subj, subj_type), entity(sentence, obj, obj_type)


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("case", sorted(CASES))
def test_mark_gives_exact_text_and_starts(case: str, scheme: str) -> None:
    sentence, subject, obj = case_entities(case)
    expected = sentence if scheme == "none" else CASES[case][3][scheme]

    marked = mark(sentence, subject, obj, scheme)

    assert marked.text == expected
    for role, ent, start, span in (
        ("subject", subject, marked.subject_start, marked.subject_span),
        ("object", obj, marked.object_start, marked.object_span),
    ):
        opening, closing = markers(scheme, role, ent.type)
        whole = f"{opening} {ent.word} {closing}" if opening else ent.word
        assert marked.text[start:].startswith(whole)
        assert span == (start, start + len(whole))


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("case", sorted(CASES))
def test_text_outside_entities_is_unchanged(case: str, scheme: str) -> None:
    sentence, subject, obj = case_entities(case)
    marked = mark(sentence, subject, obj, scheme)
    first, second = sorted(
        [(subject, marked.subject_span), (obj, marked.object_span)], key=lambda pair: pair[0].start
    )

    assert marked.text[: first[1][0]] == sentence[: first[0].start]
    assert marked.text[first[1][1] : second[1][0]] == sentence[first[0].end + 1 : second[0].start]
    assert marked.text[second[1][1] :] == sentence[second[0].end + 1 :]


def test_nested_entities_are_marked_inside_out() -> None:
    sentence = "서울대학교 총장"
    outer = entity(sentence, "서울대학교", "ORG")
    inner = entity(sentence, "서울", "LOC")

    as_subject = mark(sentence, outer, inner, "entity")
    as_object = mark(sentence, inner, outer, "typed_entity")

    assert as_subject.text == "[E1] [E2] 서울 [/E2]대학교 [/E1] 총장"
    assert (as_subject.subject_start, as_subject.object_start) == (0, 5)
    assert as_object.text == "<O:ORG> <S:LOC> 서울 </S:LOC>대학교 </O:ORG> 총장"
    assert as_object.object_span == (0, len("<O:ORG> <S:LOC> 서울 </S:LOC>대학교 </O:ORG>"))


def test_nested_entities_sharing_an_end_close_inner_first() -> None:
    sentence = "국립중앙박물관"
    outer = entity(sentence, "국립중앙박물관", "ORG")
    inner = entity(sentence, "박물관", "ORG")

    marked = mark(sentence, inner, outer, "entity")

    assert marked.text == "[E2] 국립중앙[E1] 박물관 [/E1] [/E2]"


def test_identical_spans_put_the_subject_outside() -> None:
    sentence = "BTS"
    same = entity(sentence, "BTS", "ORG")

    marked = mark(sentence, same, same, "typed_punct")

    assert marked.text == "@ * ORG * # ^ ORG ^ BTS # @"
    assert (marked.subject_start, marked.object_start) == (0, len("@ * ORG * "))
    assert mark(sentence, same, same, "none").text == "BTS"


def test_crossing_spans_raise_value_error() -> None:
    sentence = "대한민국 국회의사당"
    left = Entity("대한민국 국회", 0, 6, "ORG")
    right = Entity("국회의사당", 5, 9, "LOC")

    for subject, obj in ((left, right), (right, left)):
        with pytest.raises(ValueError, match="overlap"):
            mark(sentence, subject, obj, "entity")


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (Entity("다", 2, 5, "PER"), "outside the sentence"),
        (Entity("다", -1, 0, "PER"), "outside the sentence"),
        (Entity("다", 1, 0, "PER"), "outside the sentence"),
        (Entity("다", 0, 0, "PER"), "give '가', not '다'"),
    ],
)
def test_bad_offsets_raise_value_error(bad: Entity, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_entities("가나다", bad, Entity("나", 1, 1, "ORG"))
    with pytest.raises(ValueError, match=message):
        mark("가나다", Entity("나", 1, 1, "ORG"), bad, "none")


def test_unknown_scheme_is_a_user_error_naming_the_choices() -> None:
    sentence, subject, obj = case_entities("subject_first")

    with pytest.raises(UserError, match=r"unknown marker scheme 'typed'; choose from none, entity"):
        mark(sentence, subject, obj, "typed")
    with pytest.raises(UserError, match="unknown marker scheme"):
        special_tokens("E1")


def test_unknown_types_fall_back() -> None:
    sentence = "가 나"
    subject = Entity("가", 0, 0, "person name")
    obj = Entity("나", 2, 2, "")

    assert mark(sentence, subject, obj, "typed_entity").text == "<S> 가 </S> <O> 나 </O>"
    assert (
        mark(sentence, subject, obj, "typed_punct").text == "@ * PERSON_NAME * 가 @ # ^ UNK ^ 나 #"
    )
    lower = Entity("가", 0, 0, " per ")
    assert mark(sentence, lower, obj, "typed_entity").text == "<S:PER> 가 </S:PER> <O> 나 </O>"


def test_special_tokens_per_scheme() -> None:
    typed = special_tokens("typed_entity")

    assert special_tokens("none") == []
    assert special_tokens("typed_punct") == []
    assert special_tokens("entity") == ["[E1]", "[/E1]", "[E2]", "[/E2]"]
    assert len(typed) == len(set(typed)) == 4 * len(ENTITY_TYPES) + 4
    assert typed[:4] == ["<S:PER>", "</S:PER>", "<O:PER>", "</O:PER>"]
    assert {"<S:NOH>", "</O:DAT>", "<S>", "</S>", "<O>", "</O>"} <= set(typed)
    assert all_special_tokens() == special_tokens("entity") + typed


@pytest.mark.parametrize("scheme", ["entity", "typed_entity"])
def test_every_marker_written_is_a_special_token(scheme: str) -> None:
    tokens = set(special_tokens(scheme))
    for entity_type in (*ENTITY_TYPES, "ETC", ""):
        for role in ("subject", "object"):
            assert set(markers(scheme, role, entity_type)) <= tokens


def test_mark_example_marks_the_examples_entities() -> None:
    sentence, subject, obj = case_entities("object_first")
    example = Example("ex-1", sentence, subject, obj, "per:employee_of", "wikipedia")

    assert mark_example(example, "entity") == mark(sentence, subject, obj, "entity")


def _random_case(rng: random.Random) -> tuple[str, Entity, Entity]:
    alphabet = "가나다라마 ab1.,"
    sentence = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 30)))
    types = (*ENTITY_TYPES, "ETC")
    first_start = rng.randrange(len(sentence))
    first = (first_start, rng.randrange(first_start, min(len(sentence), first_start + 8)))
    if rng.random() < 0.2:
        inner_start = rng.randint(*first)
        second = (inner_start, rng.randint(inner_start, first[1]))
    else:
        second = first
        while not (second[1] < first[0] or second[0] > first[1]):
            second_start = rng.randrange(len(sentence))
            second = (second_start, rng.randrange(second_start, len(sentence)))
            if len(sentence) == first[1] - first[0] + 1:
                second = first
                break
    spans = [first, second]
    rng.shuffle(spans)
    subject, obj = (Entity(sentence[s : e + 1], s, e, rng.choice(types)) for s, e in spans)
    return sentence, subject, obj


def _unmark(marked: Marked, scheme: str, subject: Entity, obj: Entity) -> str:
    (s_open, s_close), (o_open, o_close) = (
        markers(scheme, "subject", subject.type),
        markers(scheme, "object", obj.type),
    )
    text = marked.text
    if s_open:
        # Opens before closes: an object open holds "#", which a close " #" could match.
        for piece in (f"{s_open} ", f"{o_open} ", f" {s_close}", f" {o_close}"):
            text = text.replace(piece, "", 1)
    return text


@pytest.mark.parametrize("scheme", SCHEMES)
def test_removing_markers_gives_the_sentence_back(scheme: str) -> None:
    rng = random.Random(20240 + SCHEMES.index(scheme))
    for _ in range(400):
        sentence, subject, obj = _random_case(rng)
        marked = mark(sentence, subject, obj, scheme)
        s_open, s_close = markers(scheme, "subject", subject.type)
        o_open, o_close = markers(scheme, "object", obj.type)

        assert _unmark(marked, scheme, subject, obj) == sentence
        assert marked.text[marked.subject_start :].startswith(s_open or subject.word)
        assert marked.text[marked.object_start :].startswith(o_open or obj.word)
        subject_marked = marked.text[slice(*marked.subject_span)]
        object_marked = marked.text[slice(*marked.object_span)]
        assert subject_marked.endswith(s_close or subject.word[-1])
        assert object_marked.endswith(o_close or obj.word[-1])


def test_char_to_token_finds_the_covering_token() -> None:
    # [CLS] "[E1]" "이" "##순신" "[/E1]" [SEP] over the text "[E1] 이순신 [/E1]"
    offsets = [(0, 0), (0, 4), (5, 6), (6, 8), (9, 14), (0, 0)]

    assert char_to_token(offsets, 0) == 1
    assert char_to_token(offsets, 3) == 1
    assert char_to_token(offsets, 5) == 2
    assert char_to_token(offsets, 7) == 3
    assert char_to_token(offsets, 4) == 2  # a dropped space maps to the next token
    assert char_to_token(offsets, 14) is None


def test_char_to_token_is_none_when_truncated() -> None:
    truncated = [(0, 0), (0, 4), (5, 6), (0, 0)]

    assert char_to_token(truncated, 9) is None
    assert char_to_token([], 0) is None
    assert char_to_token([(0, 0), (0, 0)], 0) is None


def test_char_to_token_in_the_second_member_of_a_pair() -> None:
    # [CLS] "조선" [SEP] "그" "조선" [SEP]: offsets restart at 0 in the second member.
    offsets = [(0, 0), (0, 2), (0, 0), (0, 1), (2, 4), (0, 0)]
    sequence_ids = [None, 0, None, 1, 1, None]

    assert char_to_token(offsets, 2, sequence_ids=sequence_ids, sequence=1) == 4
    assert char_to_token(offsets, 0, sequence_ids=sequence_ids, sequence=1) == 3
    assert char_to_token(offsets, 0, sequence_ids=sequence_ids) == 1
    assert char_to_token(offsets, 5, sequence_ids=sequence_ids, sequence=1) is None


@pytest.mark.parametrize("scheme", SCHEMES)
def test_starts_map_to_marker_tokens_with_a_real_fast_tokenizer(scheme: str) -> None:
    tokenizers = pytest.importorskip("tokenizers")
    from tokenizers import models, pre_tokenizers, processors, trainers

    texts = [mark(*case_entities(case), scheme).text for case in CASES]
    tokenizer = tokenizers.Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(
        vocab_size=300, special_tokens=["[UNK]", "[CLS]", "[SEP]", *all_special_tokens()]
    )
    tokenizer.train_from_iterator(texts, trainer)
    tokenizer.add_special_tokens(all_special_tokens())
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 1), ("[SEP]", 2)]
    )

    for case in CASES:
        sentence, subject, obj = case_entities(case)
        marked = mark(sentence, subject, obj, scheme)
        encoding = tokenizer.encode(marked.text)
        for ent, start, role in (
            (subject, marked.subject_start, "subject"),
            (obj, marked.object_start, "object"),
        ):
            index = char_to_token(encoding.offsets, start)
            token = encoding.tokens[index]
            opening = markers(scheme, role, ent.type)[0]
            token_start, token_end = encoding.offsets[index]
            # Without markers a subword may begin before the entity (e.g. "애플CEO"): it covers it.
            assert token_start <= start < token_end, (case, role, token)
            if scheme != "none":
                assert token_start == start
                assert opening.startswith(token)

    tokenizer.enable_truncation(max_length=3)
    marked = mark(*case_entities("korean_multi_word"), scheme)
    short = tokenizer.encode(marked.text)
    assert char_to_token(short.offsets, marked.subject_start) == 1
    assert char_to_token(short.offsets, marked.object_start) is None

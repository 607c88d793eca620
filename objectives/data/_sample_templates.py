"""Content of the built-in sample data set: entity pools, Korean particles, relation templates.

:mod:`objectives.data._sample_data` composes examples from what is here.

Template syntax: ``{S}`` and ``{O}`` are the marked subject and object; ``{NAME}`` is an unmarked
filler word drawn from the pool that ``FILLER_KINDS[NAME]`` names. A particle written inside the
braces (``{S은}``; ``{CITY}에서`` stays literal) takes the form that fits the word's last sound;
``{~은}`` puts one after whatever precedes it (after a bracketed aside it agrees with the word
before the aside, as in ``{S}({O}){~은}``). Every template is one clause ending in ``다.`` but never
in ``-ㄴ다.``, so that it can become a connective ``-고,`` clause.
"""

from __future__ import annotations

import random
from collections.abc import Callable


def _words(text: str) -> tuple[str, ...]:
    """Space-separated words; ``_`` stands for a space inside a word."""
    return tuple(word.replace("_", " ") for word in text.split())


def _pairs(text: str) -> tuple[tuple[str, str], ...]:
    """Space-separated ``left:right`` pairs."""
    return tuple(tuple(pair.split(":")) for pair in _words(text))  # type: ignore[misc]


# (subject kind, object kind, template)
Template = tuple[str, str, str]

# Which KLUE entity type each pool's words carry.
KIND_TYPES: dict[str, str] = {
    **dict.fromkeys(_words("per nick"), "PER"),
    **dict.fromkeys(
        _words("company group school party religion band team league fed agency media ngo org"),
        "ORG",
    ),
    **dict.fromkeys(_words("aliased alias"), "ORG"),
    **dict.fromkeys(_words("city country place"), "LOC"),
    **dict.fromkeys(_words("date year"), "DAT"),
    **dict.fromkeys(_words("title exec work product"), "POH"),
    "count": "NOH",
}
# Filler slot name -> pool; "kin" is plain text (a kinship term), not an entity.
FILLER_KINDS: dict[str, str] = dict(
    _pairs(
        "PER:per CO:company SCH:school BAND:band TEAM:team ORG:org AGENCY:agency MEDIA:media "
        "CITY:city NAT:country DAT:date TTL:title EXEC:exec WORK:work PROD:product NUM:count "
        "KIN:kin"
    )
)

SURNAMES = _words(
    "김 이 박 최 정 강 조 윤 장 임 한 오 서 신 권 황 안 송 류 전 홍 고 문 양 손 배 백 허 남 심 노 "
    "하 곽 성 차 주 우 구 민 유 나 진 지 엄 채 원 천 방 공 현 함 변 염 여 추 도 소 석 선 설 마 길 "
    "연 위 표 명 기 반 왕 금 옥 육 맹 제 탁 국 남궁 황보 선우"
)
GIVEN_SYLLABLES = _words(
    "민 서 지 현 준 수 영 우 진 하 은 예 도 윤 성 호 연 재 희 원 주 정 혜 승 태 동 상 경 미 유 "
    "나 소 채 다 시 아 선 건 인 규 혁 석 찬 훈 빈 율 온 한 솔 용 철 광 종 남 숙 자 옥 순 기 범 택 "
    "식 환 형 보 린 결"
)
FOREIGN_FIRST = _words(
    "존 마이클 데이비드 제임스 로버트 윌리엄 토마스 조지 에밀리 사라 안나 마리아 피터 폴 루이스 "
    "헨리 찰스 앤드루 케빈 레이철 줄리아 에밀 한스 카를 피에르 마르코 이반 소피"
)
FOREIGN_LAST = _words(
    "스미스 존슨 브라운 밀러 윌슨 테일러 앤더슨 마틴 톰슨 화이트 해리스 클라크 워커 앨런 라이트 "
    "스콧 그린 베이커 애덤스 넬슨 카터 로페즈 뮐러 슈미트 뒤부아 로시 페트로프"
)
NICKNAMES = _words(
    "제이 하루 라온 로아 케이 지니 레오 루나 미르 솔라 유키 나나 토니 제니 리노 다온 별이 에이스 "
    "조이 키키 모모 레이 비비 루다 하람 마루 소울 보라 가온 누리 새봄 시온 아린 테오 한울 해온 "
    "MJ KEN DK 빅스타 리틀윙 달빛 초코 라엘 벨라 쿠키"
)
# Company names are prefix + business; the romanized halves make an English alias.
PREFIXES = _pairs(
    "한빛:Hanbit 새솔:Saesol 푸른:Pureun 대한:Daehan 동방:Dongbang 미래:Mirae 한결:Hangyeol "
    "누리:Nuri 다온:Daon 세종:Sejong 한강:Hangang 가온:Gaon 청솔:Cheongsol 온누리:Onnuri "
    "태평:Taepyeong 금강:Geumgang 백두:Baekdu 한라:Halla 동아:Donga 한성:Hanseong 대양:Daeyang "
    "제일:Jeil 삼일:Samil 고려:Goryeo 서해:Seohae 남산:Namsan 무궁:Mugung 새빛:Saebit 한울:Hanul "
    "해솔:Haesol 늘봄:Neulbom 아람:Aram 초록:Chorok 한마음:Hanmaeum 진주:Jinju 유성:Yuseong"
)
BUSINESSES = _pairs(
    "전자:Electronics 건설:Construction 제약:Pharmaceutical 은행:Bank 증권:Securities "
    "화학:Chemical 물산:Trading 통신:Telecom 엔터테인먼트:Entertainment 소프트:Soft "
    "자동차:Motors 식품:Foods 항공:Airlines 해운:Shipping 중공업:Heavy_Industries 생명:Life "
    "바이오:Bio 에너지:Energy 유통:Retail 게임즈:Games 로보틱스:Robotics"
)
KNOWN_ALIASES = _pairs(
    "한국방송공사:KBS 한국전력공사:한전 국제연합:UN 북대서양조약기구:NATO 한국토지주택공사:LH "
    "국민건강보험공단:건보공단 전국경제인연합회:전경련 세계보건기구:WHO 국제통화기금:IMF "
    "한국개발연구원:KDI 더불어민주당:민주당 한국은행:한은 국가정보원:국정원 공정거래위원회:공정위 "
    "금융감독원:금감원 한국과학기술원:KAIST"
)
SCHOOL_KINDS = _words("대학교 대학교 고등학교 예술대학교 여자고등학교 과학기술원")
KNOWN_SCHOOLS = _words(
    "서울대학교 연세대학교 고려대학교 한양대학교 이화여자대학교 성균관대학교 부산대학교 "
    "경북대학교 한국예술종합학교 하버드대학교 옥스퍼드대학교 도쿄대학교 베이징대학교"
)
PARTIES = _words(
    "국민의힘 더불어민주당 정의당 진보당 녹색당 기본소득당 개혁신당 민주노동당 새누리당 "
    "미래통합당 자유선진당 열린우리당 한나라당 국민의당 바른정당"
)
RELIGIONS = _words(
    "천주교 개신교 불교 원불교 이슬람교 대한불교조계종 여의도순복음교회 대한예수교장로회 "
    "성공회 유대교 힌두교 정교회 천도교"
)
BAND_HEADS = _words("블루 레드 골든 실버 스타 드림 문라이트 썬 스카이 크리스탈 네온 루비 핑크")
BAND_TAILS = _words("문 웨이브 라인 하츠 보이즈 걸스 필드 로드 나인 세븐 플라워 키즈")
KNOWN_BANDS = _words(
    "방탄소년단 트와이스 빅뱅 동방신기 소녀시대 자우림 부활 넬 잔나비 혁오 블랙핑크"
)
MASCOTS = _words(
    "이글스 타이거즈 라이온즈 베어스 자이언츠 드래곤즈 웨일즈 유나이티드 스타즈 호크스"
)
LEAGUES = (
    *_words("K리그1 K리그2 프리미어리그 라리가 분데스리가 V리그 메이저리그 WK리그"),
    *("KBO 리그", "한국프로농구연맹"),
)
FEDERATIONS = _words(
    "대한상공회의소 한국경영자총협회 한국노동조합총연맹 전국민주노동조합총연맹 한국무역협회 "
    "중소기업중앙회 대한축구협회 국제올림픽위원회 한국벤처기업협회 전국은행연합회 "
    "한국소비자단체협의회"
)
AGENCIES = _words(
    "교육부 국토교통부 보건복지부 기획재정부 외교부 환경부 문화체육관광부 산업통상자원부 "
    "고용노동부 행정안전부 국방부 통일부 중소벤처기업부 통계청 기상청 국세청 경찰청 서울특별시 "
    "부산광역시 경기도청"
)
MEDIA_SUFFIXES = _words("일보 신문 방송 뉴스")
KNOWN_MEDIA = _words("조선일보 중앙일보 동아일보 한겨레 경향신문 MBC SBS JTBC 연합뉴스 YTN")
NGO_SUFFIXES = _words("재단 협회 연구소 복지회 시민연대 장학회 문화재단")
GROUP_SUFFIXES = _words("그룹 홀딩스")
KOREAN_CITIES = _words(
    "서울 부산 대구 인천 광주 대전 울산 세종 수원 성남 고양 용인 창원 청주 전주 천안 포항 제주 "
    "춘천 강릉 목포 여수 순천 안동 경주 진주 군산 원주 속초 통영"
)
CITIES = (
    *KOREAN_CITIES,
    *_words(
        "뉴욕 런던 파리 도쿄 베이징 상하이 로스앤젤레스 베를린 모스크바 시드니 토론토 오사카 "
        "홍콩 싱가포르 방콕 하노이 로마 마드리드 프라하 시카고"
    ),
    *("서울 종로구", "서울 강남구", "부산 해운대구", "경기도 성남시", "전라남도 목포시"),
)
COUNTRIES = _words(
    "대한민국 미국 일본 중국 영국 프랑스 독일 캐나다 호주 러시아 이탈리아 스페인 브라질 베트남 "
    "태국 인도 멕시코 네덜란드 스웨덴 필리핀 몽골 튀르키예 아르헨티나 폴란드 이집트 뉴질랜드"
)
TITLES = _words(
    "대표이사 회장 사장 감독 교수 배우 가수 작가 국회의원 장관 시장 대통령 총리 선수 기자 "
    "변호사 의사 위원장 총장 이사장 코치 단장 화가 소설가 시인 아나운서 프로듀서 연구원 "
    "외교관 판사 검사 최고경영자 수석연구원 부회장"
)
EXEC_TITLES = _words("대표이사 회장 사장 부사장 이사장 대표 위원장 원장 의장 전무 상무 본부장")
WORK_HEADS = _words(
    "푸른 마지막 잃어버린 작은 빛나는 서울의 눈부신 고요한 우리들의 새벽의 붉은 어느_봄날의 "
    "먼 그해_여름의 낯선"
)
WORK_TAILS = _words("밤 편지 바다 노래 약속 정원 기차 별 거리 시간 연인 도시 꿈 숲 바람 나라")
PRODUCT_HEADS = _words("노바 에어로 스텔라 오로라 비전 플렉스 제니스 퀀텀 루미 히어로 아톰 미라클")
PRODUCT_TAILS = ("", " 프로", " 맥스", " 울트라", " 라이트", " X", " 2", " 5", " 플러스")
KIN_TERMS = _words(
    "조카 삼촌 사촌_동생 사촌_형 손자 손녀 할아버지 할머니 외삼촌 고모 이모 처남 사위 며느리 "
    "시아버지 장인 매형 큰아버지 작은아버지"
)

# Shares per relation in KLUE-RE's training set; no_relation is set apart (NO_RELATION_SHARE).
KLUE_COUNTS: dict[str, int] = {
    "org:top_members/employees": 4284,
    "per:employee_of": 3573,
    "per:title": 2103,
    "org:member_of": 1866,
    "org:alternate_names": 1320,
    "per:origin": 1234,
    "org:place_of_headquarters": 1195,
    "per:date_of_birth": 1130,
    "per:alternate_names": 1001,
    "per:spouse": 795,
    "per:colleagues": 534,
    "per:parents": 520,
    "org:founded": 450,
    "org:members": 420,
    "per:date_of_death": 418,
    "org:product": 380,
    "per:children": 304,
    "per:place_of_residence": 193,
    "per:other_family": 190,
    "per:place_of_birth": 166,
    "org:founded_by": 155,
    "per:product": 139,
    "per:siblings": 136,
    "org:political/religious_affiliation": 98,
    "per:religion": 96,
    "per:schools_attended": 82,
    "org:dissolved": 66,
    "org:number_of_employees/members": 48,
    "per:place_of_death": 40,
}
NO_RELATION_SHARE = 0.31

RELATION_TEMPLATES: dict[str, tuple[Template, ...]] = {
    "org:dissolved": (
        ("band", "date", "{S은} {O}에 공식 해체를 발표했다."),
        ("company", "date", "{S은} 경영난을 이기지 못하고 {O}에 문을 닫았다."),
        ("party", "date", "{O}에 해산된 {S은} 이후 다시 창당되지 않았다."),
        ("team", "date", "{O}, 재정난에 시달리던 {S이} 끝내 해체되었다."),
        ("org", "date", "{S}의 해산일은 {O이다}."),
    ),
    "org:founded": (
        ("company", "date", "{S은} {O}에 설립되었다."),
        ("org", "date", "{O}에 창립된 {S은} 국내 최대 규모로 성장했다."),
        ("band", "date", "{O}에 결성된 {S은} 이듬해 첫 앨범을 냈다."),
        ("school", "date", "{S은} {O}에 개교한 이래 많은 인재를 길러냈다."),
        ("org", "year", "{S}의 창립 연도는 {O이다}."),
    ),
    "org:place_of_headquarters": (
        ("company", "city", "{S은} {O}에 본사를 두고 있다."),
        ("org", "place", "{O}에 본부를 둔 {S은} 해외 진출을 확대했다."),
        ("company", "city", "{S}의 본사는 {O}에 위치해 있다."),
        ("company", "city", "{O} 소재의 {S은} 지난해 매출이 크게 늘었다."),
        ("org", "city", "본사를 {O으로} 옮긴 {S은} 새 사옥을 마련했다."),
        ("team", "city", "{O을} 연고지로 하는 {S은} 홈 경기에서 승리했다."),
    ),
    "org:alternate_names": (
        ("aliased", "alias", "{S}({O}){~은} 올해 창립 50주년을 맞았다."),
        ("aliased", "alias", "{O은} {S을} 가리키는 말로 쓰였다."),
        ("aliased", "alias", "{S은} 흔히 {O이라고} 불렸다."),
        ("aliased", "alias", "{O이라는} 이름으로 더 잘 알려진 {S은} 국내외에서 활동하고 있다."),
        ("aliased", "alias", "{S}의 다른 이름은 {O이다}."),
    ),
    "org:member_of": (
        ("company", "group", "{S은} {O} 계열사로 편입되었다."),
        ("team", "league", "{O} 소속 구단인 {S은} 지난 시즌 우승을 차지했다."),
        ("company", "fed", "{S은} {O}의 회원사로 활동하고 있다."),
        ("org", "fed", "{O}에 가입한 {S은} 공동 사업에 참여하기로 했다."),
        ("company", "group", "{O}의 계열사인 {S은} 신규 투자를 발표했다."),
    ),
    "org:members": (
        ("group", "company", "{S}에는 {O과} {CO} 등의 계열사가 있다."),
        ("fed", "org", "{O은} {S}의 회원사 가운데 하나이다."),
        ("league", "team", "{S은} {O을} 새 회원 구단으로 받아들였다."),
        ("fed", "org", "{S} 산하에는 {O} 등 여러 단체가 있다."),
    ),
    "org:political/religious_affiliation": (
        ("school", "religion", "{S은} {O} 계열의 사립학교이다."),
        ("ngo", "party", "{O} 성향의 시민단체인 {S은} 성명을 발표했다."),
        ("ngo", "party", "{S은} {O과} 정치적 노선을 같이했다."),
        ("ngo", "religion", "{S은} {O} 교단에 속한 재단이다."),
        ("media", "party", "{O}의 기관지로 출발한 {S은} 이후 독립 언론이 되었다."),
    ),
    "org:product": (
        ("company", "product", "{S은} {DAT}에 {O을} 출시했다."),
        ("company", "product", "{O은} {S}에서 개발한 제품이다."),
        ("company", "product", "{S}의 대표 상품인 {O은} 해외에서도 인기를 끌었다."),
        ("company", "product", "신제품 {O을} 선보인 {S은} 판매 목표를 높였다."),
        ("media", "work", "{S이} 제작한 드라마 {O은} 높은 시청률을 기록했다."),
    ),
    "org:founded_by": (
        ("company", "per", "{S은} {O이} 세운 회사이다."),
        ("company", "per", "{O은} {DAT}에 {S을} 창업했다."),
        ("org", "per", "{S}의 설립자인 {O은} 은퇴 후에도 영향력을 유지했다."),
        ("band", "per", "{O이} 결성한 {S은} 첫 공연에서 호평을 받았다."),
        ("ngo", "per", "{S은} {O}의 기부금으로 설립되었다."),
    ),
    "org:top_members/employees": (
        ("org", "per", "{S} {EXEC} {O은} 기자회견을 열었다."),
        ("org", "per", "{O은} {S}의 신임 대표로 선임되었다."),
        ("company", "per", "{S을} 이끌고 있는 {O은} 올해 목표를 밝혔다."),
        ("company", "per", "{O} 회장이 이끄는 {S은} 해외 시장 공략에 나섰다."),
        ("company", "per", "{S}에서 연구원으로 일하는 {O은} 신기술을 발표했다."),
        ("band", "per", "{S}의 멤버 {O이} 솔로 앨범을 냈다."),
        ("team", "per", "{S}의 주장 {O은} 이번 시즌 10골을 넣었다."),
    ),
    "org:number_of_employees/members": (
        ("company", "count", "{S}의 임직원 수는 {O이다}."),
        ("fed", "count", "{O}의 회원을 거느린 {S은} 국내 최대 단체로 꼽혔다."),
        ("company", "count", "{S}에는 현재 {O}의 직원이 근무하고 있다."),
        ("party", "count", "{S}의 당원은 지난해 {O으로} 늘었다."),
    ),
    "per:date_of_birth": (
        ("per", "date", "{S은} {O} {CITY}에서 태어났다."),
        ("per", "year", "{O}생인 {S은} 올해 데뷔 10주년을 맞았다."),
        ("per", "date", "{S}({O} ~ ){~은} 대한민국의 {TTL이다}."),
        ("per", "date", "{O}에 출생한 {S은} 어린 시절을 {CITY}에서 보냈다."),
        ("per", "date", "{S}의 생일은 {O이다}."),
    ),
    "per:date_of_death": (
        ("per", "date", "{S은} {O}에 세상을 떠났다."),
        ("per", "date", "{S}({DAT} ~ {O}){~은} {NAT}의 {TTL이었다}."),
        ("per", "date", "{O}에 별세한 {S}의 장례식이 {CITY}에서 치러졌다."),
        ("per", "date", "{S은} 오랜 투병 끝에 {O}에 숨을 거두었다."),
    ),
    "per:place_of_birth": (
        ("per", "city", "{S은} {O}에서 태어났다."),
        ("per", "place", "{O}에서 출생한 {S은} {DAT}에 가족과 함께 이주했다."),
        ("per", "city", "{O} 태생인 {S은} 그곳의 사투리를 즐겨 썼다."),
        ("per", "city", "{S}의 출생지는 {O이다}."),
    ),
    "per:place_of_death": (
        ("per", "city", "{S은} {O}에서 생을 마감했다."),
        ("per", "place", "{O}에서 숨진 {S}의 유해는 고향으로 옮겨졌다."),
        ("per", "city", "{S은} {DAT} {O}의 한 병원에서 별세했다."),
    ),
    "per:place_of_residence": (
        ("per", "city", "{S은} 현재 {O}에 거주하고 있다."),
        ("per", "place", "{O}에 살고 있는 {S은} 매일 작업실로 향했다."),
        ("per", "city", "{S은} 가족과 함께 {O으로} 이사했다."),
        ("per", "city", "{O} 주민인 {S}씨는 불편을 호소했다."),
    ),
    "per:origin": (
        ("per", "country", "{O} 출신의 {TTL} {S은} 이번 대회에서 우승했다."),
        ("per", "country", "{S은} {O} 국적의 {TTL이다}."),
        ("per", "country", "{S은} {O}에서 온 유학생이다."),
        ("per", "country", "{O}인 {S은} 한국어를 유창하게 구사했다."),
    ),
    "per:employee_of": (
        ("per", "org", "{O} {EXEC} {S은} 기자회견을 열었다."),
        ("per", "org", "{S은} {O}의 신임 대표로 선임되었다."),
        ("per", "company", "{S은} {O}에 입사해 20년 넘게 근무했다."),
        ("per", "team", "{O} 소속 {S은} 이번 시즌 10골을 넣었다."),
        ("per", "band", "{O}의 멤버 {S이} 솔로 앨범을 냈다."),
        ("per", "party", "{O} 소속 {S} 의원은 법안을 대표 발의했다."),
        ("per", "agency", "{O}에서 근무하는 {S} 사무관은 이번 정책을 설명했다."),
    ),
    "per:schools_attended": (
        ("per", "school", "{S은} {DAT}에 {O을} 졸업했다."),
        ("per", "school", "{O} 출신인 {S은} 모교에 장학금을 기부했다."),
        ("per", "school", "{S은} {O}에서 경영학을 전공했다."),
        ("per", "school", "{O}에 재학 중인 {S은} 대회에서 금상을 받았다."),
    ),
    "per:alternate_names": (
        ("per", "nick", "{S은} {O이라는} 예명으로 활동했다."),
        ("per", "nick", "{O이라는} 활동명으로 더 잘 알려진 {S은} 새 앨범을 냈다."),
        ("nick", "per", "본명이 {O}인 {S은} {DAT}에 데뷔했다."),
        ("nick", "per", "{S}(본명 {O}){~은} 팬들과의 약속을 지켰다."),
    ),
    "per:parents": (
        ("per", "per", "{S은} {O}의 아들이다."),
        ("per", "per", "{O}의 딸인 {S이} 경영에 참여했다."),
        ("per", "per", "{S}의 아버지인 {O은} 유명한 작곡가였다."),
        ("per", "per", "{O과} {PER}의 장남으로 태어난 {S은} 어려서부터 음악을 배웠다."),
        ("per", "per", "{S}의 어머니 {O은} 아들의 수상 소식에 눈물을 흘렸다."),
    ),
    "per:children": (
        ("per", "per", "{O은} {S}의 아들이다."),
        ("per", "per", "{S}의 딸인 {O이} 경영에 참여했다."),
        ("per", "per", "{O}의 아버지인 {S은} 유명한 작곡가였다."),
        ("per", "per", "{S은} 슬하에 {O과} {PER} 두 자녀를 두었다."),
    ),
    "per:siblings": (
        ("per", "per", "{S은} {O}의 친동생이다."),
        ("per", "per", "{S과} {O은} 세 살 터울의 자매이다."),
        ("per", "per", "{O}의 형인 {S}도 같은 길을 걸었다."),
        ("per", "per", "{S}의 오빠 {O은} 동생의 결정을 지지했다."),
    ),
    "per:spouse": (
        ("per", "per", "{S은} {DAT}에 {O과} 결혼했다."),
        ("per", "per", "{S}의 아내인 {O은} 자선 활동에 힘썼다."),
        ("per", "per", "{O}의 남편 {S은} 공식 석상에 모습을 드러냈다."),
        ("per", "per", "{S}·{O} 부부는 {CITY}에 정착했다."),
    ),
    "per:other_family": (
        ("per", "per", "{S은} {O}의 {KIN이다}."),
        ("per", "per", "{O}의 {KIN}인 {S은} 가업을 물려받았다."),
        ("per", "per", "{S은} {KIN} {O과} 함께 사업을 시작했다."),
    ),
    "per:colleagues": (
        ("per", "per", "{S은} {TEAM}에서 {O과} 함께 뛰었다."),
        ("per", "per", "{S과} {O은} {CO} 입사 동기이다."),
        ("per", "per", "{O과} 함께 {BAND}에서 활동한 {S은} 솔로로 전향했다."),
        ("per", "per", "{S}의 동료 의원인 {O은} 법안에 찬성했다."),
    ),
    "per:product": (
        ("per", "work", "{S은} {DAT}에 정규 앨범 《{O}》{~을} 발표했다."),
        ("per", "work", "《{O}》{~은} {S}의 대표작으로 꼽혔다."),
        ("per", "work", "{S이} 연출한 영화 {O은} 관객 100만 명을 돌파했다."),
        ("per", "work", "{S}의 장편소설 {O이} 영화로 만들어졌다."),
    ),
    "per:religion": (
        ("per", "religion", "{S은} 독실한 {O} 신자이다."),
        ("per", "religion", "{O} 신자인 {S은} 매주 예배에 참석했다."),
        ("per", "religion", "{S은} {DAT}에 {O으로} 개종했다."),
        ("per", "religion", "{S}의 종교는 {O이다}."),
    ),
    "per:title": (
        ("per", "title", "{O} {S은} 이날 취임 소감을 밝혔다."),
        ("per", "title", "{S은} {DAT}부터 {O}직을 맡고 있다."),
        ("per", "exec", "{S은} {CO} {O이다}."),
        ("per", "title", "{O으로} 활동 중인 {S은} 새 작품을 준비하고 있다."),
        ("per", "title", "{S} {O은} 인터뷰에서 소감을 전했다."),
    ),
}

# The marked pair has plausible types but no relation: the predicate relates nothing KLUE names.
NEUTRAL_TEMPLATES: tuple[Template, ...] = (
    ("per", "city", "{S은} {DAT}에 {O을} 방문했다."),
    ("per", "place", "{S은} {O}에서 열린 회의에 참석했다."),
    ("per", "city", "{O}에서 공연을 마친 {S은} 곧바로 귀국했다."),
    ("per", "country", "{S은} {DAT}에 {O을} 여행했다."),
    ("per", "org", "{S은} {O을} 강하게 비판했다."),
    ("per", "company", "{O은} {S을} 상대로 소송을 제기했다."),
    ("per", "org", "{S은} {O}의 행사에 초청되었다."),
    ("per", "per", "{S은} {O과} 만나 의견을 나눴다."),
    ("per", "per", "{O은} 기자회견에서 {S을} 언급했다."),
    ("per", "per", "{S은} 결승에서 {O을} 꺾고 우승했다."),
    ("per", "date", "{S은} {O}에 기자회견을 열었다."),
    ("per", "date", "{O}에 열린 시상식에서 {S이} 상을 받았다."),
    ("per", "work", "{S은} 영화 {O을} 관람했다."),
    ("per", "title", "{S은} {O} 선거에 출마하지 않겠다고 밝혔다."),
    ("per", "count", "{S은} 팬 {O과} 함께 행사를 즐겼다."),
    ("company", "city", "{S은} {O}에 신규 매장을 열었다."),
    ("org", "place", "{S은} {O}에서 박람회를 개최했다."),
    ("company", "company", "{S은} {O과} 업무 협약을 맺었다."),
    ("org", "org", "{S은} {O을} 상대로 소송을 냈다."),
    ("company", "company", "{O과} 치열하게 경쟁하는 {S은} 가격을 내렸다."),
    ("org", "per", "{S은} {O을} 홍보대사로 위촉했다."),
    ("org", "per", "{S은} {O을} 명예훼손 혐의로 고소했다."),
    ("company", "date", "{S은} {O}에 신제품을 발표했다."),
    ("org", "date", "{O}에 열린 총회에서 {S은} 새 규정을 통과시켰다."),
    ("company", "product", "{S은} 경쟁사의 {O을} 분석한 보고서를 냈다."),
    ("org", "count", "{S}의 행사에는 {O이} 참가했다."),
    ("org", "title", "{S은} 새 {O을} 공개 모집했다."),
)

# Hard negatives: the relation's cue words are there, but they tie a third entity to S or O.
TRAP_TEMPLATES: tuple[Template, ...] = (
    ("per", "city", "{S은} {PER이} 태어난 {O을} 찾았다."),
    ("per", "city", "{O}에서 태어난 {PER과} 달리 {S은} 바닷가 마을에서 자랐다."),
    ("per", "country", "{S은} {O} 출신의 {PER과} 결혼했다."),
    ("per", "company", "{S은} {PER이} 대표로 있는 {O을} 방문했다."),
    ("per", "company", "{O}에 입사한 {PER과} 달리 {S은} 창업을 택했다."),
    ("per", "school", "{S은} {O을} 졸업한 {PER을} 채용했다."),
    ("per", "org", "{S은} {O}에서 해고된 {PER을} 변호했다."),
    ("per", "per", "{S은} {PER}의 아들인 {O을} 만났다."),
    ("per", "per", "{S은} {O}의 동료인 {PER을} 비판했다."),
    ("per", "per", "{S과} 결혼한 {PER은} {O}의 오랜 팬이다."),
    ("per", "date", "{O}에 태어난 {PER}의 전기를 {S이} 집필했다."),
    ("per", "date", "{S은} {PER이} 세상을 떠난 {O}에 추모 공연을 열었다."),
    ("per", "work", "{S은} {PER}의 앨범 《{O}》{~을} 극찬했다."),
    ("per", "title", "{S은} {O} {PER을} 만났다."),
    ("per", "religion", "{S은} {O} 신자인 {PER과} 토론을 벌였다."),
    ("per", "nick", "{S은} {O이라는} 예명을 쓰는 {PER과} 함께 무대에 올랐다."),
    ("org", "per", "{S은} {ORG} 대표 {O을} 고소했다."),
    ("org", "per", "{O이} 설립한 {ORG은} {S과} 경쟁했다."),
    ("company", "company", "{S은} {O}의 계열사인 {CO과} 합병했다."),
    ("org", "city", "{S은} {ORG}의 본사가 있는 {O}에 지점을 냈다."),
    ("company", "date", "{S은} {ORG이} 설립된 {O}에 첫 제품을 출시했다."),
    ("company", "date", "{O}에 해체된 {ORG}의 자산을 {S이} 인수했다."),
    ("company", "product", "{S은} {CO이} 출시한 {O}의 판매를 중단했다."),
    ("company", "count", "{S과} 달리 {CO}의 직원 수는 {O이다}."),
)

# Background clauses: unmarked entities and other relations' cue words, to lengthen sentences.
BACKGROUND: tuple[str, ...] = (
    "{DAT} {CITY}에서 열린 기념식에는 {NUM}의 시민이 참석했다.",
    "이날 행사에서는 다양한 공연과 전시가 이어졌다.",
    "{MEDIA}에 따르면 {NAT} 정부는 관련 대책을 발표했다.",
    "{AGENCY은} {DAT}부터 새로운 지원 제도를 시행했다.",
    "관계자들은 이번 결정이 업계 전반에 큰 영향을 미칠 것으로 전망했다.",
    "{CITY}의 날씨는 맑았지만 오후부터 비가 내렸다.",
    "{PER} {TTL}에 따르면 당시 현장에는 {NUM이} 모여 있었다.",
    "{CO은} 같은 날 {PROD}의 판매 실적을 공개했다.",
    "{NAT과} {NAT은} {DAT}에 정상회담을 열었다.",
    "이후 여러 차례 논의가 이어졌으나 합의에는 이르지 못했다.",
    "당시 {CITY}에서는 대규모 문화 축제가 열리고 있었다.",
    "{ORG}의 발표 직후 관련 업계는 긴장하는 분위기였다.",
    "{PER은} {DAT}에 열린 토론회에서 이 문제를 처음 제기했다.",
    "{BAND}의 새 앨범 《{WORK}》{~은} 발매 첫 주에 음원 차트 1위에 올랐다.",
    "{TEAM은} 홈 경기에서 {TEAM을} 3대 1로 꺾었다.",
    "{SCH은} {DAT}에 개교 기념행사를 열었다.",
)
CONNECTORS = ("", "", "", "한편 ", "또한 ", "이후 ", "이에 앞서 ", "같은 날 ")
SOURCES = (("wikipedia", 50), ("wikitree", 40), ("policy_briefing", 10))


# --- Korean particles ---------------------------------------------------------------------------

_PARTICLES: dict[str, tuple[str, str]] = {  # key -> (after a final consonant, after a vowel)
    "은": ("은", "는"),
    "이": ("이", "가"),
    "을": ("을", "를"),
    "과": ("과", "와"),
    "으로": ("으로", "로"),
    "이라는": ("이라는", "라는"),
    "이라고": ("이라고", "라고"),
    "이다": ("이다", "다"),
    "이었다": ("이었다", "였다"),
}
# Digits and Latin letters take the particle of how they are read: (final consonant, it is ㄹ).
_SPOKEN_ENDINGS = {
    **dict.fromkeys("036mn", (True, False)),
    **dict.fromkeys("178lr", (True, True)),
}
_RIEUL = 8  # index of ㄹ among the Hangul final consonants


def final_sound(text: str) -> tuple[bool, bool]:
    """Whether the last spoken syllable of ``text`` ends in a consonant, and whether it is ㄹ."""
    text = text.rstrip()
    # A particle after a bracketed aside agrees with the word before it: "삼성전자(Samsung)는".
    if text.endswith(")") and "(" in text:
        text = text[: text.rindex("(")]
    for i in range(len(text) - 1, -1, -1):
        char = text[i]
        if "가" <= char <= "힣":
            final = (ord(char) - ord("가")) % 28
            return final != 0, final == _RIEUL
        if char.isdigit() or (char.isascii() and char.isalpha()):
            if text[i - 1 : i + 1].lower() == "ng":  # "Shipping" is read 쉬핑
                return True, False
            return _SPOKEN_ENDINGS.get(char.lower(), (False, False))
    return False, False


def josa(preceding: str, key: str) -> str:
    """The form of particle ``key`` ("은", "이", "을", "으로", ...) that fits ``preceding``."""
    after_consonant, after_vowel = _PARTICLES[key]
    final, rieul = final_sound(preceding)
    if key == "으로" and rieul:
        return after_vowel
    return after_consonant if final else after_vowel


# --- entity pools -------------------------------------------------------------------------------


def _person(rng: random.Random) -> str:
    if rng.random() < 0.1:
        return f"{rng.choice(FOREIGN_FIRST)} {rng.choice(FOREIGN_LAST)}"
    first, second = rng.sample(GIVEN_SYLLABLES, 2)
    return rng.choice(SURNAMES) + first + second


def _named(suffixes: tuple[str, ...]) -> Callable[[random.Random], str]:
    return lambda rng: rng.choice(PREFIXES)[0] + rng.choice(suffixes)


def _known_or(known: tuple[str, ...], rate: float, made: Callable[[random.Random], str]):
    return lambda rng: rng.choice(known) if rng.random() < rate else made(rng)


def _school_name(rng: random.Random) -> str:
    stem = rng.choice(PREFIXES)[0] if rng.random() < 0.6 else rng.choice(KOREAN_CITIES)
    return stem + rng.choice(SCHOOL_KINDS)


def _date(rng: random.Random) -> str:
    year, month, day = rng.randint(1900, 2023), rng.randint(1, 12), rng.randint(1, 28)
    form = rng.random()
    if form < 0.5:
        return f"{year}년 {month}월 {day}일"
    return f"{year}년 {month}월" if form < 0.7 else f"{year}년"


def _count(rng: random.Random) -> str:
    form = rng.random()
    if form < 0.4:
        return f"{rng.randint(2, 400) * 25:,}명"
    if form < 0.7:
        return f"{rng.randint(1, 90) * 10}여 명"
    return f"{rng.randint(1, 60)}만{'여' if form < 0.85 else ''} 명"


def _one_of(words: tuple[str, ...]) -> Callable[[random.Random], str]:
    return lambda rng: rng.choice(words)


_company = _named(tuple(business for business, _ in BUSINESSES))
_media = _known_or(KNOWN_MEDIA, 0.4, _named(MEDIA_SUFFIXES))
_ngo = _named(NGO_SUFFIXES)
_group = _named(GROUP_SUFFIXES)
_agency = _one_of(AGENCIES)


def _org(rng: random.Random) -> str:
    maker = rng.choices((_company, _media, _ngo, _group, _agency), weights=(5, 1, 1, 1, 1))[0]
    return maker(rng)


POOLS: dict[str, Callable[[random.Random], str]] = {
    "per": _person,
    "nick": _one_of(NICKNAMES),
    "company": _company,
    "group": _group,
    "school": _known_or(KNOWN_SCHOOLS, 0.25, _school_name),
    "party": _one_of(PARTIES),
    "religion": _one_of(RELIGIONS),
    "band": _known_or(
        KNOWN_BANDS, 0.2, lambda rng: rng.choice(BAND_HEADS) + rng.choice(BAND_TAILS)
    ),
    "team": lambda rng: f"{rng.choice(KOREAN_CITIES)} {rng.choice(MASCOTS)}",
    "league": _one_of(LEAGUES),
    "fed": _one_of(FEDERATIONS),
    "agency": _agency,
    "media": _media,
    "ngo": _ngo,
    "org": _org,
    "city": _one_of(CITIES),
    "country": _one_of(COUNTRIES),
    "place": lambda rng: rng.choice(CITIES if rng.random() < 0.7 else COUNTRIES),
    "date": _date,
    "year": lambda rng: f"{rng.randint(1900, 2023)}년",
    "title": _one_of(TITLES),
    "exec": _one_of(EXEC_TITLES),
    "work": lambda rng: f"{rng.choice(WORK_HEADS)} {rng.choice(WORK_TAILS)}",
    "product": lambda rng: rng.choice(PRODUCT_HEADS) + rng.choice(PRODUCT_TAILS),
    "count": _count,
    "kin": _one_of(KIN_TERMS),
}


def aliased(rng: random.Random) -> tuple[str, str]:
    """An organization and another name for it: a known pair, an English name or a short form."""
    form = rng.random()
    if form < 0.25:
        return rng.choice(KNOWN_ALIASES)
    (prefix, prefix_en), (business, business_en) = rng.choice(PREFIXES), rng.choice(BUSINESSES)
    if form < 0.6:
        return prefix + business, f"{prefix_en} {business_en}"
    return prefix + business, prefix[0] + business[0]

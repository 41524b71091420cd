"""Words every answering rule shares: calendar names, time words, number words, function words.

One list per meaning, written from how English states times and quantities (never from one
corpus's questions), so the typed-span patterns, the reader's type check, the follow-up resolver
and the LLM check agree on what counts as a date or a number.
"""

from __future__ import annotations

import re

MONTHS = frozenset("January February March April May June July August September October November December".split())
MONTH_ABBREVIATIONS = frozenset("Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec".split())
WEEKDAYS = frozenset("Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split())

#: Words that place or measure something in time: a span holding one (or a digit) can answer
#: "when" or "how long" ("in the spring", "during the war", "two centuries ago", "hours").
TIME_WORDS = frozenset(w.lower() for w in MONTHS | MONTH_ABBREVIATIONS | WEEKDAYS) | frozenset(
    """spring summer autumn fall winter century centuries decade decades year years month months week
    weeks day days today yesterday tomorrow tonight morning afternoon evening night noon midnight dawn
    dusk ago now then later earlier early late soon recently before after during since until till while
    once age ages era eras period times time war reign dynasty childhood youth birth death christmas
    easter holiday holidays eve bc ad bce ce hour hours minute minutes second seconds o'clock when whenever
    end beginning start epoch never always shortly""".split()
)

#: Number words and their values (a count written out: "two", "forty").
NUMBER_VALUES = {
    w: n
    for n, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen twenty".split()
    )
} | {"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
     "hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000, "trillion": 10**12}

#: Words that state a quantity without a digit ("a dozen", "several", "twice", "half").
QUANTITY_WORDS = frozenset(NUMBER_VALUES) | frozenset(
    """hundreds thousands millions billions dozen dozens several few many half twice once single double
    triple none no all most some couple""".split()
)

#: A unit of area or volume: the size of a surface, not a height, depth or distance.
AREA_UNIT = re.compile(r"\b(?:square|sq|acres?|hectares?|cubic)\b|[²³]", re.IGNORECASE)

#: Pronouns of the writer and the reader: a span led by one ("my direction") names nothing by itself.
SPEAKER_WORDS = frozenset("i me my mine we us our ours you your yours".split())

#: Words that name a position, not who holds it: "CEO" is not an answer to "who".
ROLE_WORDS = frozenset(
    """ceo cfo coo cto president vice chairman chairwoman chair founder cofounder co-founder director manager
    chief executive officer head leader owner boss minister secretary governor king queen""".split()
)
ARTICLES = frozenset("the a an its his her their this that".split())

#: Words that stand before a person's name without being part of it ("Judge Ann Lee", "Dr. Ruiz").
TITLE_WORDS = frozenset(
    """Mr Mrs Ms Miss Mx Dr Prof Professor Sir Dame Lord Lady Judge Justice Honorable Honourable Hon
    President Vice Senator Governor Mayor Minister Secretary General Colonel Captain Lieutenant Sergeant
    Officer Officers King Queen Prince Princess Duke Pope Bishop Father Sister Brother Saint St Chairman
    Chairwoman Chair Director Chief Executive Founder CEO""".split()
)

#: Words that head or end the names of institutions, places, laws and publications, not people:
#: "Harlow County Court", "Bank of Velm", "Clean Water Act", "North Street".
INSTITUTION_WORDS = frozenset(
    """Court Courts Department Office Offices Bureau Agency Ministry Commission Committee Council Board
    Authority Administration Service Services Bank Fund Trust Group Holdings Partners Company Corporation
    Corp Inc Ltd LLC Co Foundation Institute Institution Association Society Union League Federation
    University College School Academy Hospital Clinic Center Centre Museum Library Church Party Army
    Navy Police Prison Jail Program Programme Project Conference Summit Act Code Treaty Street Road
    Avenue Square Plaza Suite Building District County State States City Province
    Region Republic Kingdom Empire Island Islands River Lake Mountain Exchange Market Journal Times
    News Post Press Review Magazine Gazette Herald Tribune Daily Weekly Labs Capital Financial Global
    International National Federal World United""".split()
)

#: What money questions ask about, and a sum can be named by ("minimum wage"): a span answering
#: one names a sum, one of these, or "free".
MONEY_WORDS = frozenset(
    """cost costs pay paid pays price priced prices worth spend spent fine fined fines charge charged salary
    fee fees earn earned raise raised sell sold buy bought value valued valuation revenue budget invest
    invested owe owed wage wages income""".split()
)


def words(text: str) -> list[str]:
    """Lower-case words and numbers of ``text``; a hyphen splits ("year-round", "two-fifths"), an
    apostrophe does not ("o'clock")."""
    return re.findall(r"[^\W_]+(?:['’][^\W_]+)*", text.lower())

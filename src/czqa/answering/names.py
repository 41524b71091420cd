"""Capitalized words that are not names: the one list both name finders read.

Answer spans (a "who" question's person, a "where" question's place) and follow-up referents
("he" → the person named earlier) both look for runs of capitalized words; both must skip the
question words, pronouns, function words, months and weekdays that start sentences with a capital.
"""

from __future__ import annotations

MONTHS = frozenset("January February March April May June July August September October November December".split())
WEEKDAYS = frozenset("Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split())

NOT_NAME = (
    frozenset(
        """Who Whom Whose What When Where Why How Which Did Does Do Is Was Were Are Has Have Had Can Could
        Will Would Should Shall May Might Must The A An And But Or Nor So Yet In On At For From To Of By
        With Without About After Before During Since Until Into Over Under Between Against Among Per Via
        He She It They We You I Me Him Her His Its Their Them Our Your My This That These Those There Then
        Tell Give List Name Explain Describe Please Also Mr Mrs Ms Dr According Yes No Not Wasn If While
        However Still Moreover Finally Indeed Meanwhile Later Back Dear Sincerely""".split()
    )
    | MONTHS
    | WEEKDAYS
)

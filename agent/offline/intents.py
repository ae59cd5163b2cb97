"""Keyword rules: what the latest customer message asks for.

These rules stand in for a language model's judgement. They are deliberately plain
so tests can predict the agent: the words below decide every offline turn.
"""

import enum
import re


class Intent(enum.Enum):
    HANDOFF = "handoff"
    LEGAL = "legal"
    CLAIM_STATUS = "claim_status"
    CLAIM = "claim"
    POLICY = "policy"
    CONTACT = "contact"
    OFF_TOPIC = "off_topic"
    AMBIGUOUS_ISSUE = "ambiguous_issue"
    GREETING = "greeting"
    THANKS = "thanks"
    GENERAL = "general"


def _words(*patterns: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(patterns) + r")\b", re.IGNORECASE)


HANDOFF_WORDS = _words(
    r"humans?",
    r"agents?",
    r"person",
    r"people",
    r"representatives?",
    r"managers?",
    r"supervisors?",
    r"operators?",
    r"someone real",
    r"real person",
    r"staff",
)
LEGAL_WORDS = _words(
    r"legal(?:ly)?",
    r"lawyers?",
    r"attorneys?",
    r"sue",
    r"lawsuit",
    r"liab(?:le|ility)",
    r"court",
    r"interpret(?:ation)?",
)
CLAIM_STATUS_WORDS = _words(r"status", r"open claims?", r"my claims", r"existing claims?")
CLAIM_WORDS = _words(
    r"claims?",
    r"accident",
    r"crash(?:ed)?",
    r"collision",
    r"rear-ended",
    r"stolen",
    r"theft",
    r"damaged?",
    r"broken",
    r"dent(?:ed)?",
)
POLICY_WORDS = _words(
    r"polic(?:y|ies)",
    r"coverage",
    r"covered",
    r"cover",
    r"deductible",
    r"premium",
    r"insured",
)
CONTACT_WORDS = _words(r"phone", r"number", r"call you", r"hours", r"open", r"opening")
OFF_TOPIC_WORDS = _words(
    r"weather",
    r"recipes?",
    r"cook(?:ing)?",
    r"football",
    r"soccer",
    r"sports?",
    r"movies?",
    r"music",
    r"songs?",
    r"jokes?",
    r"politics",
    r"stocks?",
    r"bitcoin",
    r"crypto",
    r"pizza",
    r"holiday",
    r"vacation",
    r"poem",
    r"capital of",
    r"homework",
)
ISSUE_WORDS = _words(r"issue", r"problem", r"trouble", r"something happened", r"help with")
GREETING_WORDS = _words(r"hi", r"hello", r"hey", r"good (?:morning|afternoon|evening)")
THANKS_WORDS = _words(r"thanks", r"thank you", r"cheers")
AFFIRMATIVE_WORDS = _words(
    r"yes",
    r"yeah",
    r"yep",
    r"correct",
    r"confirm(?:ed)?",
    r"right",
    r"ok(?:ay)?",
    r"sure",
    r"great",
    r"perfect",
    r"thanks",
    r"thank you",
    r"looks good",
)
INCIDENT_DETAIL_WORDS = _words(
    r"yesterday",
    r"today",
    r"last (?:night|week|month)",
    r"on (?:monday|tuesday|wednesday|"
    r"thursday|friday|saturday|sunday)",
    r"\d{1,2}(?:st|nd|rd|th)?",
    r"street",
    r"st",
    r"road",
    r"avenue",
    r"ave",
    r"highway",
    r"parking",
    r"hit",
    r"rear-ended",
    r"crashed",
    r"collided",
    r"stolen",
    r"broke(?:n)?",
    r"flood(?:ed)?",
    r"fire",
    r"hail",
    r"scratched",
    r"dented",
    r"smashed",
)


def classify(message: str) -> Intent:
    """The single intent the offline model acts on, by priority."""
    if HANDOFF_WORDS.search(message):
        return Intent.HANDOFF
    if LEGAL_WORDS.search(message):
        return Intent.LEGAL
    if CLAIM_STATUS_WORDS.search(message) and re.search(r"claim", message, re.IGNORECASE):
        return Intent.CLAIM_STATUS
    if CLAIM_WORDS.search(message):
        return Intent.CLAIM
    if POLICY_WORDS.search(message):
        return Intent.POLICY
    if OFF_TOPIC_WORDS.search(message):
        return Intent.OFF_TOPIC
    if ISSUE_WORDS.search(message):
        return Intent.AMBIGUOUS_ISSUE
    if CONTACT_WORDS.search(message):
        return Intent.CONTACT
    if THANKS_WORDS.search(message):
        return Intent.THANKS
    if GREETING_WORDS.search(message):
        return Intent.GREETING
    return Intent.GENERAL


def is_affirmative(message: str) -> bool:
    return bool(AFFIRMATIVE_WORDS.search(message))


def gives_incident_details(message: str) -> bool:
    return bool(INCIDENT_DETAIL_WORDS.search(message))

"""The word tables of prompt canonicalisation and of the guard.

Every table is closed and small on purpose: a word that is in none of them is a *content
word*, and content words are decisive (:mod:`.guard`). Each table only ever makes two
prompts *less* different when the words it lists cannot change what is asked; the tables
that do the opposite (negations, antonyms, direction words) exist so that no normalisation
step can drop or merge the words that flip an answer. ``tests/test_cache_canonical.py``
checks that the tables never overlap where that would be unsafe.
"""

from __future__ import annotations

__all__ = [
    "ANTONYMS",
    "ARTICLES",
    "DIRECTION_WORDS",
    "FILLER_WORDS",
    "NEGATIONS",
    "NEGATION_PREFIXES",
    "PERSONS",
    "POLITENESS",
    "QUESTION_WORDS",
    "REQUEST_VERBS",
    "SPELLING",
    "SYNONYMS",
    "TENSE_AND_MOOD",
]

ARTICLES = frozenset({"a", "an", "the"})

POLITENESS = frozenset({"please", "pls", "plz", "kindly", "thanks", "thx"})

# Words that never decide an answer wherever they stand: auxiliaries that carry neither
# tense nor mood (is/are/am/do/does: the past "was"/"did" and the modals stay), the
# existential "there" ("how many bones are there in ..."), and demonstrative and relative
# pronouns that point at the prompt itself ("explain this code", "a function that sorts").
# Prepositions are *not* filler: between two nouns they tell the roles ("cups in a liter" /
# "liters in a cup", "a poem for" / "about my wife").
FILLER_WORDS = frozenset(
    {"is", "are", "am", "be", "do", "does", "there", "this", "that", "these", "those", "it",
     "its", "some", "following"}
)  # fmt: skip

NEGATIONS = frozenset(
    {"not", "no", "never", "none", "nor", "neither", "nothing", "nobody", "nowhere",
     "without", "except", "excluding", "lack", "lacks", "avoid", "against"}
)  # fmt: skip

# A word made of one of these and a word that appears unprefixed in the other prompt is
# that word's negation ("unsafe" / "safe", "non-blocking" / "blocking").
NEGATION_PREFIXES = ("non-", "non", "un", "in", "im", "ir", "il", "dis")

_ANTONYM_PAIRS = (
    ("good", "bad"), ("better", "worse"), ("best", "worst"), ("true", "false"),
    ("yes", "no"), ("more", "less"), ("most", "least"), ("increase", "decrease"),
    ("before", "after"), ("add", "remove"), ("above", "below"), ("over", "under"),
    ("higher", "lower"), ("high", "low"), ("max", "min"), ("maximum", "minimum"),
    ("positive", "negative"), ("pro", "con"), ("advantage", "disadvantage"),
    ("benefit", "risk"), ("safe", "dangerous"), ("healthy", "unhealthy"), ("up", "down"),
    ("open", "close"), ("start", "stop"),
    ("encrypt", "decrypt"), ("encode", "decode"), ("compress", "decompress"),
    ("ascending", "descending"), ("first", "last"), ("left", "right"),
    ("always", "never"), ("all", "none"), ("same", "different"), ("legal", "illegal"),
    ("allowed", "forbidden"), ("import", "export"), ("upload", "download"),
    ("push", "pull"), ("buy", "sell"), ("win", "lose"), ("hot", "cold"),
    ("fast", "slow"), ("faster", "slower"), ("big", "small"), ("large", "small"),
    ("long", "short"), ("cheap", "expensive"), ("easy", "hard"), ("early", "late"),
    ("enable", "disable"), ("lock", "unlock"), ("accept", "reject"), ("include", "exclude"),
    ("old", "new"), ("older", "newer"), ("oldest", "newest"),
    ("input", "output"), ("client", "server"), ("read", "write"), ("sync", "async"),
    ("synchronous", "asynchronous"), ("even", "odd"), ("north", "south"), ("east", "west"),
    ("love", "hate"), ("agree", "disagree"), ("like", "dislike"), ("strong", "weak"),
    ("rich", "poor"), ("light", "dark"), ("light", "heavy"), ("wet", "dry"),
    ("serialize", "deserialize"), ("mutable", "immutable"), ("fastest", "slowest"),
    ("in", "out"), ("on", "off"), ("gain", "lose"), ("accept", "decline"),
    ("create", "delete"), ("create", "destroy"), ("install", "uninstall"),
    ("connect", "disconnect"), ("entry", "exit"), ("inside", "outside"),
)  # fmt: skip

#: Each antonym's opposites. Both words of a pair stay content words and are never merged
#: by a synonym or a spelling rule, so two prompts that differ by one always differ.
ANTONYMS: dict[str, frozenset[str]] = {}
for _left, _right in _ANTONYM_PAIRS:
    ANTONYMS[_left] = ANTONYMS.get(_left, frozenset()) | {_right}
    ANTONYMS[_right] = ANTONYMS.get(_right, frozenset()) | {_left}

# Words whose *right operand* (the next content word) decides a role: the source or target
# of a conversion or a translation, the two sides of a comparison, what something is of or
# by. "Fahrenheit to Celsius" and "Celsius to Fahrenheit" hold the same words; the operand
# of "to" tells them apart. Negations bind their operand the same way.
DIRECTION_WORDS = frozenset(
    {"to", "from", "into", "onto", "than", "vs", "versus", "of", "by", "before", "after",
     "over", "under", "per", "then", "except", "instead"}
)  # fmt: skip

# Who is asking or asked about: "what is your name" / "what is my name".
PERSONS = frozenset(
    {"i", "me", "my", "mine", "myself", "you", "your", "yours", "yourself", "we", "us",
     "our", "ours", "he", "him", "his", "she", "her", "hers", "they", "them", "their"}
)  # fmt: skip

# Auxiliaries that carry tense or mood ("who is" / "who was", "can I" / "should I").
TENSE_AND_MOOD = frozenset(
    {"was", "were", "did", "had", "has", "have", "will", "would", "shall", "can", "could",
     "should", "must", "may", "might", "been", "being"}
)  # fmt: skip

QUESTION_WORDS = frozenset({"what", "why", "how", "when", "where", "who", "whom", "whose", "which"})

# Verbs of a request: "could you <verb>" asks for <verb>; before any other word ("could you
# swim") the modal is the question and stays.
REQUEST_VERBS = frozenset(
    {"explain", "describe", "write", "create", "generate", "compose", "show", "give", "list",
     "provide", "fix", "correct", "repair", "make", "build", "tell", "help", "summarize",
     "translate", "convert", "find", "suggest", "recommend", "compare", "sort", "calculate",
     "compute", "check", "rewrite", "review", "define", "name", "draft", "outline",
     "implement", "design", "plan", "solve", "teach", "remind", "delete", "remove",
     "rename", "reverse", "count", "parse", "format", "refactor", "optimize", "debug",
     "proofread", "recap", "share", "walk", "guide", "clarify", "elaborate", "detail",
     "produce", "prepare"}
)  # fmt: skip

#: Verb synonyms, applied where a verb stands (the first content word, after "how" or
#: "and"). Small on purpose: each group asks for the same kind of answer.
SYNONYMS: dict[str, str] = {
    "describe": "explain",
    "create": "write",
    "generate": "write",
    "compose": "write",
    "produce": "write",
    "give": "show",
    "list": "show",
    "provide": "show",
    "correct": "fix",
    "repair": "fix",
    "build": "make",
    "delete": "remove",
    "utilize": "use",
    "begin": "start",
    "compute": "calculate",
}

#: British and American spellings of the same word (the -ise/-ize family is a rule of
#: :mod:`.inflection`), and two forms that ask the same: "into" is "to" (a conversion, a
#: translation), "has" is "have" ("how many moons does Jupiter have" / "... Jupiter has").
SPELLING: dict[str, str] = {
    "into": "to",
    "has": "have",
    "colour": "color",
    "colours": "colors",
    "favourite": "favorite",
    "favourites": "favorites",
    "behaviour": "behavior",
    "behaviours": "behaviors",
    "centre": "center",
    "centres": "centers",
    "grey": "gray",
    "analyse": "analyze",
    "analysed": "analyzed",
    "analysing": "analyzing",
    "catalogue": "catalog",
    "licence": "license",
    "programme": "program",
    "travelling": "traveling",
    "modelling": "modeling",
    "labelled": "labeled",
    "cancelled": "canceled",
}

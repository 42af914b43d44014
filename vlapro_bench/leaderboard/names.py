"""Text a reader can trust: invisible characters refused, lookalike names compared as one name.

A leaderboard shows submitters' names side by side, so two entries must not be able to look the
same, and no text may change how the table around it reads. Two rules:

- :func:`text_problem`: text shown in a table may hold no format characters (Unicode category
  ``Cf``: zero-width spaces and joiners, the right-to-left override and the other bidirectional
  controls, the byte-order mark), no private-use characters (``Co``, drawn differently by every
  font), no unassigned code points (``Cn``) and no lone surrogates (``Cs``, which cannot even be
  written as UTF-8).
- :func:`name_key`: names are unique under a key that folds what a reader cannot tell apart:
  NFKC normalisation (fullwidth, mathematical and ligature forms become plain letters), case,
  combining marks, runs of whitespace, and the Cyrillic and Greek letters of :data:`CONFUSABLES`
  that look like Latin ones.

No package in the environment folds confusables (Unicode's full table, UTS #39, is not shipped
with Python); the map below is deliberately small: the letters of the Cyrillic and Greek
alphabets whose usual glyph is a Latin letter's, in lower case because keys are case-folded.
"""

from __future__ import annotations

import unicodedata

#: Unicode categories refused in displayed text, with the words an error message uses.
REFUSED_CATEGORIES = {
    "Cf": "an invisible format character",
    "Co": "a private-use character",
    "Cn": "an unassigned code point",
    "Cs": "a lone surrogate",
}

#: Cyrillic and Greek lower-case letters that render like a Latin letter, and that letter.
#: Upper-case lookalikes (Cyrillic А В Е К М Н О Р С Т Х, Greek Α Β Ε Ζ Η Ι Κ Μ Ν Ο Ρ Τ Υ Χ)
#: reach these entries through case folding; where the upper and lower case resemble different
#: Latin letters (Greek Η/η, Cyrillic Н/н) the upper case, the closer match, wins.
CONFUSABLES: dict[str, str] = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ѕ": "s", "і": "i", "ј": "j", "к": "k", "м": "m", "н": "h", "о": "o",
    "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ԁ": "d", "ԛ": "q", "ԝ": "w", "һ": "h", "ӏ": "l",
    "ү": "y",
    # Greek
    "α": "a", "β": "b", "ε": "e", "ζ": "z", "η": "h", "ι": "i", "κ": "k", "μ": "m", "ν": "v", "ο": "o",
    "ρ": "p", "τ": "t", "υ": "y", "χ": "x",
    # Latin letters without a dot or with a hook that pass for plain ones
    "ı": "i", "ȷ": "j", "ɡ": "g",
}
_FOLD = str.maketrans(CONFUSABLES)


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be shown in a table (``None`` if it can): the first refused character."""
    for char in text:
        category = unicodedata.category(char)
        if category in REFUSED_CATEGORIES:
            name = unicodedata.name(char, "unnamed")
            return (f"contains U+{ord(char):04X} {name}, {REFUSED_CATEGORIES[category]} that can hide or reorder "
                    f"text in the table; remove it")
    return None


def displayable(text: str) -> str:
    """``text`` if :func:`text_problem` finds nothing, else ``ValueError`` (a pydantic validator)."""
    problem = text_problem(text)
    if problem is not None:
        raise ValueError(problem)
    return text


def name_key(name: str) -> str:
    """The form two names are compared in: equal keys mean a reader could take one for the other."""
    text = unicodedata.normalize("NFKC", name).casefold()
    decomposed = unicodedata.normalize("NFD", text)
    bare = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    folded = unicodedata.normalize("NFKC", bare).translate(_FOLD)
    return " ".join(folded.split())

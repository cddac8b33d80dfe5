"""Text a user wrote (a workspace's name, an account's email), put into a plain-text mail as data.

Mail clients turn anything that looks like a link or an address in plain text into a clickable
one, and a line break in a name would let it read as the mail's own words. `as_data` makes one
quoted line of it: whitespace and control characters become single spaces, invisible format
characters (bidi overrides) go, and what a client would link is defanged the way security
mailing lists do it: `https[:]//evil[.]example`, `a[@]b`.
"""

import re
import unicodedata

from django import template

register = template.Library()

_SCHEME = re.compile(r":(?=//)")
_DOT = re.compile(r"(?<=\w)\.(?=\w)")


@register.filter
def as_data(text: object) -> str:
    chars = []
    for char in str(text):
        category = unicodedata.category(char)
        if category == "Cf":
            continue
        chars.append(" " if char.isspace() or category.startswith("C") else char)
    line = " ".join("".join(chars).split())
    line = _SCHEME.sub("[:]", line)
    line = _DOT.sub("[.]", line)
    line = line.replace("@", "[@]")
    return f"“{line}”"

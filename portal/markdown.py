"""Markdown that people write (suggestions, thread messages), rendered safely.

markdown-it parses CommonMark with raw HTML switched off, so `<script>` in the
text stays text; nh3 (ammonia) then keeps only the tags and attributes below,
and links get rel="noopener noreferrer nofollow". Only http(s) and mailto links.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True}).enable(
    "table"
)

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "a", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}


def render(text: str | None) -> Markup:
    """HTML for a Markdown text, safe to put into any page."""
    if not text:
        return Markup("")
    html = _parser.render(text)
    return Markup(
        nh3.clean(
            html,
            tags=ALLOWED_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
            url_schemes={"http", "https", "mailto"},
            link_rel="noopener noreferrer nofollow",
        )
    )

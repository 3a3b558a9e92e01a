"""A model card as a self-contained HTML page: its Markdown rendered by markdown-it-py, its data escaped; no I/O."""

from html import escape

from markdown_it import MarkdownIt

from .model_card import MONITORING_END, MONITORING_START

# "js-default" is CommonMark with tables and with raw HTML off: a card is built from data (column names, categories,
# a project description), so any markup in it is shown as text instead of being run by the browser.
MARKDOWN = MarkdownIt("js-default")
STYLE = """
body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#222}
table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #ccc;padding:.25rem .6rem;text-align:left}
th{background:#f3f3f3}code,pre{background:#f6f6f6;border-radius:3px;padding:0 .2rem}pre{padding:.6rem;overflow:auto}
"""


def split_front_matter(card: str) -> tuple[str, str]:
    """The YAML metadata between the leading `---` lines, and the Markdown after it ("" when there is none)."""
    if card.startswith("---\n"):
        end = card.find("\n---\n", 4)
        if end >= 0:
            return card[4:end], card[end + 5 :]
    return "", card


def card_page(card: str, title: str) -> str:
    """The HTML page: the card's sections, then its metadata as the YAML it is (Hugging Face shows it apart too)."""
    metadata, markdown = split_front_matter(card)
    # The markers only delimit what `monitor` rewrites; as text they would read as noise.
    body = "\n".join(line for line in markdown.splitlines() if line.strip() not in {MONITORING_START, MONITORING_END})
    meta = f"<details><summary>Metadata (YAML)</summary><pre>{escape(metadata)}</pre></details>" if metadata else ""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
        f'<body><main id="model-card">{MARKDOWN.render(body)}{meta}</main></body></html>\n'
    )

"""A model card's HTML page: sections rendered, metadata kept apart, data shown as text and never run."""

from {{ cookiecutter.package_name }}.core.card_page import card_page, split_front_matter
from {{ cookiecutter.package_name }}.core.model_card import MONITORING_END, MONITORING_START

CARD = f"""---
license: mit
tags: [tabular]
---

# Model card: m

## Training data

| feature | categories |
| --- | --- |
| `colour` | <img src=x onerror=alert(1)> |

## Monitoring

{MONITORING_START}
Latest run: **no threshold crossed**.
{MONITORING_END}
"""


def test_front_matter_is_split_from_the_markdown() -> None:
    metadata, markdown = split_front_matter(CARD)
    assert metadata == "license: mit\ntags: [tabular]"
    assert markdown.startswith("\n# Model card: m")
    assert split_front_matter("# No metadata\n") == ("", "# No metadata\n")


def test_page_renders_sections_tables_and_the_metadata() -> None:
    page = card_page(CARD, "Model card: m v1")
    assert page.startswith("<!DOCTYPE html>") and "<title>Model card: m v1</title>" in page
    assert "<h1>Model card: m</h1>" in page and "<h2>Monitoring</h2>" in page
    assert "<th>feature</th>" in page and "<strong>no threshold crossed</strong>" in page
    assert "<pre>license: mit\ntags: [tabular]</pre>" in page


def test_markup_from_data_is_shown_as_text() -> None:
    page = card_page(CARD, "<b>title</b>")
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<b>title</b>" not in page
    assert "monitoring:start" not in page


def test_a_javascript_link_is_not_made_a_link() -> None:
    page = card_page("[click](javascript:alert(1))\n", "t")
    assert "href" not in page

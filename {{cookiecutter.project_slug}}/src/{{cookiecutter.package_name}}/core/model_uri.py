"""Registry references: `models:/<name>@<alias>` or `models:/<name>/<version>`, parsed without MLflow."""

import re

MODEL_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[\w-]+)|/(?P<version>\d+))$")


def parse_model_uri(uri: str) -> tuple[str, str | None, str | None]:
    """(name, alias, version) of a registry URI."""
    match = MODEL_URI.match(uri)
    if match is None:
        raise ValueError(f"MODEL_URI must look like models:/<name>@<alias> or models:/<name>/<version>, got {uri!r}")
    return match["name"], match["alias"], match["version"]

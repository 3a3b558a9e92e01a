"""The DVC remote's S3 settings, for reading `s3://` batches with the same endpoint and keys that `dvc push` uses.

DVC merges its config files (the project's `.dvc/config`, the per-machine `.dvc/config.local`, the user's and the
system's); its own `Repo.config` gives the merged result, so a key set with `dvc remote modify --local` counts here
as it does for DVC. Keys that DVC's config leaves unset come from the AWS environment (AWS_ACCESS_KEY_ID, ...), as
they do for DVC itself.
"""

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyarrow.fs


def default_remote_settings(root: Path) -> dict[str, Any]:
    """The default remote's section of DVC's merged config, or {} when the project has none (or is no DVC repo)."""
    from dvc.exceptions import NotDvcRepoError
    from dvc.repo import Repo

    try:
        with Repo(str(root)) as repo:
            config = repo.config
    except NotDvcRepoError:
        return {}
    name = config.get("core", {}).get("remote")
    return dict(config.get("remote", {}).get(name, {})) if name else {}


def s3_filesystem(root: Path) -> pyarrow.fs.S3FileSystem:
    """pyarrow's S3 client with the default DVC remote's endpoint, region and keys (when it names them)."""
    remote = default_remote_settings(root)
    options: dict[str, Any] = {
        "access_key": remote.get("access_key_id"),
        "secret_key": remote.get("secret_access_key"),
        "session_token": remote.get("session_token"),
        "region": remote.get("region"),
        # Seconds: an endpoint that does not answer is said in a sentence, not waited on for minutes.
        "connect_timeout": 10,
        "request_timeout": 60,
    }
    endpoint = remote.get("endpointurl")
    if endpoint:
        # DVC takes a URL (http://127.0.0.1:9000), pyarrow a host and a scheme apart.
        parts = urlsplit(endpoint)
        options |= {"endpoint_override": parts.netloc or parts.path, "scheme": parts.scheme or "https"}
    return pyarrow.fs.S3FileSystem(**{key: value for key, value in options.items() if value is not None})

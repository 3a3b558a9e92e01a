"""POST a monitoring alert to a webhook: bounded time, a few retries, and never the URL in a log line."""

import http.client
import json
import logging
import time
import urllib.error
import urllib.request
from typing import Any

from pydantic import SecretStr

logger = logging.getLogger(__name__)
# Server-side trouble and rate limits are worth another try; any other 4xx will fail the same way again.
RETRY_STATUSES = {408, 425, 429, 500, 502, 503, 504}


def post_alert(
    url: SecretStr, message: dict[str, Any], timeout: float = 5.0, attempts: int = 3, backoff: float = 0.5
) -> bool:
    """POST the message as JSON; True once the receiver answers 2xx, False (logged) when every attempt failed.

    urllib, not httpx2: httpx2 logs each request's full URL at INFO, and a webhook URL's path is its secret. Errors are
    logged by type and status only, since their text can quote the URL too.
    """
    body = json.dumps(message).encode("utf-8")
    for attempt in range(1, attempts + 1):
        request = urllib.request.Request(
            url.get_secret_value(), data=body, method="POST", headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                response.read()
            logger.info("alert delivered (attempt %d of %d)", attempt, attempts)
            return True
        except urllib.error.HTTPError as error:
            reason, retry = f"HTTP {error.code}", error.code in RETRY_STATUSES
        except (OSError, http.client.HTTPException) as error:  # refused, reset, timed out, a garbled answer
            reason, retry = type(error).__name__, True
        except ValueError as error:  # a malformed URL: trying again cannot help
            reason, retry = type(error).__name__, False
        logger.warning("alert not delivered (attempt %d of %d): %s", attempt, attempts, reason)
        if not retry:
            break
        if attempt < attempts:
            time.sleep(backoff * 2 ** (attempt - 1))
    logger.error("alert given up: the report is still written and the exit code is unchanged")
    return False

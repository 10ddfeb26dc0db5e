"""Business counters for Prometheus (SPEC §13): what the service did, not how fast.

Module-level, because a worker process counts once whatever app object serves it; ``/metrics``
(``web.metrics``) exposes them with the request metrics, added up across workers in
Prometheus multiprocess mode. Label values come from closed sets (intents, grant types,
outcomes), so the number of time series stays fixed.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

__all__ = ["REGISTRY", "logins", "sessions_completed", "sessions_created", "tokens_issued", "webhook_deliveries"]

REGISTRY = CollectorRegistry(auto_describe=True)

sessions_created = Counter("headless_redirects_sessions_created", "Redirect sessions created", ["intent"],
                           registry=REGISTRY)
sessions_completed = Counter("headless_redirects_sessions_completed", "Redirect sessions completed", ["intent"],
                             registry=REGISTRY)
tokens_issued = Counter("headless_redirects_tokens_issued", "Token requests answered with tokens", ["grant_type"],
                        registry=REGISTRY)
logins = Counter("headless_redirects_logins", "Member logins by email and password", ["outcome"],
                 registry=REGISTRY)
webhook_deliveries = Counter("headless_redirects_webhook_deliveries", "Webhook delivery attempts", ["outcome"],
                             registry=REGISTRY)

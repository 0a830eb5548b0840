"""HTTP routers, one module per resource; each exposes ``router``."""

__all__ = ["ROUTERS"]

# module names under app.api.routes, mounted in this order by create_app
ROUTERS = ("health", "monitoring", "recommendations", "predictions", "governance", "endpoints", "diagnoses",
           "analyses", "evaluations")

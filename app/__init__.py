"""ML Failure Investigator: watch deployed models, detect drift, explain, recommend, govern."""

__all__ = ["__version__"]
__version__ = "0.1.0"

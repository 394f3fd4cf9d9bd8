"""ops-warehouse: an observability data warehouse for DORA, SLO and incident metrics."""

__version__ = "0.1.0"

"""Tooling around the Welsh children's social services census warehouse.

One package, one command (``carecensus``): the synthetic census generator, its
calibration report and fault injector, the census validation rules over raw
extracts, and (later) validation, publishing and benchmarks.
"""

__version__ = "0.1.0"

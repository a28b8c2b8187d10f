"""Experiment e13: settings in ``schema.yaml``, measurement in ``measure.py``, figures in
``figures.py``."""

from .measure import EXPERIMENT

__all__ = ["EXPERIMENT"]

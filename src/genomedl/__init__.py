"""genomedl: from public genomic records to trained, evaluated and explained deep learning models."""

__version__ = "0.1.0"

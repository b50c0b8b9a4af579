"""Predictions on new inputs: reading FASTA/CSV/BED/VCF inputs, tiling regions, scoring windows and variants, and
writing tracks."""

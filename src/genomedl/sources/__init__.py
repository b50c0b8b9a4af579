"""Where records come from: local GenBank files, NCBI E-utilities (:mod:`.ncbi`), GenBank text checks and the
provenance manifest."""

"""Labelled windows: annotation (GenBank features, GFF3/GTF/BED12), the tasks' anchors and classes, the window policy,
labelled sequences and duplicate handling."""

"""The JASPAR taxonomic group of a dataset's organism: from the GenBank records' taxonomy (the manifest's
``lineage``), else the source's ``taxon`` key, so that motifs are matched against the organisms the data come
from. Torch-free."""

from __future__ import annotations

from genomedl.choices import JASPAR_GROUPS

FALLBACK = JASPAR_GROUPS[0]  # vertebrates: without any knowledge of the organism
# the clade in a GenBank taxonomy that puts an organism in each JASPAR group
CLADES = {
    "Vertebrata": "vertebrates",
    "Viridiplantae": "plants",
    "Insecta": "insects",
    "Fungi": "fungi",
    "Nematoda": "nematodes",
    "Tunicata": "urochordates",
}


def lineage_group(lineage: str) -> str | None:
    """The JASPAR group of a "; "-joined GenBank taxonomy ("Eukaryota; Viridiplantae; ..."), None if none fits."""
    clades = {clade.strip() for clade in lineage.split(";")}
    return next((group for clade, group in CLADES.items() if clade in clades), None)


def jaspar_taxon(configured: list[str] | None, source_taxon: str | None, records: list[dict], dataset: str) -> dict:
    """The tax groups interpret matches against, and why: ``configured`` (interpret.jaspar.tax_groups) when set,
    else the records' groups (manifest rows with organism and lineage), else ``source_taxon``, else vertebrates.
    ``note``: a configured group that the records' organisms do not belong to, or the fallback, in one line."""
    found: dict[str, set[str]] = {}
    for row in records:
        group = lineage_group(str(row.get("lineage") or ""))
        if group:
            found.setdefault(group, set()).add(str(row.get("organism") or "?"))
    described = "; ".join(f"{', '.join(sorted(names))}: {group}" for group, names in sorted(found.items()))
    data = sorted(found) or ([source_taxon] if source_taxon else [])
    origin = (
        f"the records' organisms ({described})"
        if found
        else f"datasets.{dataset}.source.taxon: {source_taxon}"
        if source_taxon
        else None
    )
    if configured:
        stray = sorted(set(data) - set(configured))
        note = (
            f"interpret.jaspar.tax_groups {configured} leaves out {', '.join(stray)}, the group of {origin}; motifs of "
            "these organisms may find no match"
            if stray
            else None
        )
        return {"tax_groups": list(configured), "reason": "interpret.jaspar.tax_groups", "note": note}
    if data:
        return {"tax_groups": data, "reason": f"from {origin}", "note": None}
    note = (
        f"the organism of dataset {dataset} is unknown (no GenBank taxonomy, no source.taxon): motifs are matched "
        f"against JASPAR {FALLBACK}; set datasets.{dataset}.source.taxon"
    )
    return {"tax_groups": [FALLBACK], "reason": "no organism known", "note": note}

"""The quality gate's checks: shortcut probes, near-duplicate leakage, class balance and the strand probe, with their
verdicts (:mod:`.gate`)."""

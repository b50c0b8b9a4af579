"""Split strategies (grouped, k-fold, chromosome, predefined), loci that keep neighbouring windows together, and the
leakage guards."""

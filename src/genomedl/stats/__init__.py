"""Statistics of test predictions: metrics (weighted, for the bootstrap), bootstrap intervals and paired tests, the
leaderboard, and a model's scores as the evaluate stage writes them."""

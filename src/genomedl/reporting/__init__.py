"""Parts of the HTML report: leaderboard, model and prediction sections, quality gate, model cards, the language-model
section, the index matrix, and the Jinja2 templates."""

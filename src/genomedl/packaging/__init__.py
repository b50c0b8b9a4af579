"""Models usable without genomedl: the model card (JSON and Markdown) of an exported model."""

"""The workflow's stages, one module per ``genomedl`` subcommand (:data:`genomedl.cli.STAGES`): each reads its files,
calls the shared parts below it, and writes its outputs atomically. A stage never imports another stage."""

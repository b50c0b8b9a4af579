"""Training a model (entry: :func:`genomedl.training.run.train_model`): the Lightning module (:mod:`.engine`), one
attempt's loaders, callbacks and trainer (:mod:`.fit`), restarts after a collapse, checkpoints, batch sizes, class
imbalance, device placement, diagnostics and the run record."""

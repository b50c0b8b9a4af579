"""A dataset as the model stages read it: its files (:class:`~genomedl.data.files.DatasetFiles`), its splits memory-
mapped (:mod:`.datasets`) and the DataLoaders over them (:mod:`.loaders`)."""

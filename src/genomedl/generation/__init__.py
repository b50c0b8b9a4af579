"""Generated sequences: the GAN's sequence-quality metrics and figures, and the check that its windows help a
classifier (:mod:`.augment`)."""

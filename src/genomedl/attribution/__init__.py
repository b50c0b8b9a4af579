"""Why a model decides: attributions (captum, tangermeme), seqlet motifs matched to JASPAR, and their figures."""

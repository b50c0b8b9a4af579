"""Sequences as numbers: uint8 tokens (A=0 C=1 G=2 T=3 N=4), FASTA streamed in blocks, k-mer ids and the language-model
tokenizer and masking."""

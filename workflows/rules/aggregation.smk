# Stage 2, aggregation: tidy run shards -> summaries against theory and LaTeX macros.


rule e1_summary:
    input:
        expand("results/e1/N{n}/results.parquet", n=config["e1"]["sizes"]),
    output:
        summary="results/e1/summary.parquet",
        half="results/e1/half.parquet",
        runs="results/e1/example_runs.parquet",
        macros="results/macros/macros-e1.tex",
    log:
        "results/logs/e1_summary.log",
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=4000,
    params:
        settings=config["e1"],
    script:
        "../scripts/e1_summary.py"

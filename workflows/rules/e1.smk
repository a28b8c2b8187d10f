# E1: mean estimation with and without replacement.


rule e1_config:
    output:
        "results/e1/N{n}/config.yaml",
    log:
        "results/logs/e1_config_N{n}.log",
    localrule: True
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        settings=config["e1"],
    script:
        "../scripts/e1_config.py"


rule e1_run:
    input:
        "results/e1/N{n}/config.yaml",
    output:
        parquet="results/e1/N{n}/results.parquet",
        provenance="results/e1/N{n}/provenance.json",
    log:
        "results/logs/e1_run_N{n}.log",
    conda:
        "../../environment.yml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        python=PY,
        cache=JAX_CACHE,
    shell:
        "{params.python} -m sgdbench.cli run {input} --out $(dirname {output.parquet})"
        " --cache-dir {params.cache} > {log} 2>&1"


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


rule e1_figure:
    input:
        summary="results/e1/summary.parquet",
        half="results/e1/half.parquet",
        runs="results/e1/example_runs.parquet",
    output:
        pdf=report(
            "results/figures/e1_mean_estimation.pdf",
            caption="../report/e1.rst",
            category="E1",
        ),
        png="results/figures/e1_mean_estimation.png",
    log:
        "results/logs/e1_figure.log",
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/e1_figure.py"

# Compare a default run's key numbers with results/reference/ (not part of `all`:
# the reference pins the default config; run `snakemake verify`).


rule verify:
    input:
        reference=os.path.join(BASE, "results/reference/reference.json"),
        tables=[
            f"results/{e.name}/measurements.parquet"
            for e in EXPERIMENTS
            if e.measurements is not None
        ],
    output:
        "results/verify.txt",
    log:
        "results/logs/verify.log",
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    params:
        python=PY,
    shell:
        "{params.python} -m sgdbench.cli verify results --reference {input.reference}"
        " > {output}.tmp 2> {log} && mv {output}.tmp {output}"

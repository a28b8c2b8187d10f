# Stage 1, experiments: one generic job per registered experiment in config["experiments"]
# (sgdbench.pipeline.measure_job); its outputs are what the experiment declares.

for _exp in EXPERIMENTS:

    rule:
        name:
            f"{_exp.name}_measure"
        input:
            data=fingerprint.existing_data_files(config[_exp.name]),
            plugins=PLUGIN_FILES,
        output:
            tables=[f"results/{_exp.name}/{t}.parquet" for t in _exp.tables],
            # Its headline numbers in the one long schema (sgdbench.measurements).
            measurements=f"results/{_exp.name}/measurements.parquet",
            tex=[f"results/macros/{t}.tex" for t in _exp.tex],
            macros=f"results/macros/{_exp.macro_file()}.tex",
            values=f"results/macros/{_exp.macro_file()}.json",
            provenance=f"results/{_exp.name}/provenance.json",
            # Key numbers and quoted values beside the figures in `snakemake --report`.
            numbers=report(
                f"results/{_exp.name}/numbers.html",
                caption=CAPTIONS[f"{_exp.name}-numbers"],
                category=_exp.label,
            ),
        log:
            f"results/logs/{_exp.name}_measure.log",
        group:
            "measure"
        conda:
            "../../environment.yml"
        threads: _exp.threads or workflow.cores
        resources:
            mem_mb=_exp.memory_mb(config[_exp.name]),
            runtime=_exp.runtime,
        params:
            kind="measure",
            experiment=_exp.name,
            settings=config[_exp.name],
            plugins=config["plugins"],
            cache=JAX_CACHE,
            code=CODE,
        script:
            "../scripts/job.py"

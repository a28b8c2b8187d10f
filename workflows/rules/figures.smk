# Stage 2, figures: one generic job per figure of each selected experiment, captioned for --report.

for _exp in EXPERIMENTS:
    for _fig in _exp.figures:

        rule:
            name:
                f"{_fig.name}_figure"
            input:
                tables=[f"results/{_exp.name}/{t}.parquet" for t in _fig.tables],
                provenance=f"results/{_exp.name}/provenance.json",
                plugins=PLUGIN_FILES,
            output:
                pdf=report(
                    f"results/figures/{_fig.name}.pdf",
                    caption=CAPTIONS[_fig.name],
                    category=_exp.label,
                ),
                png=f"results/figures/{_fig.name}.png",
            log:
                f"results/logs/{_fig.name}_figure.log",
            group:
                "figures"
            conda:
                "../../environment.yml"
            threads: 1
            resources:
                mem_mb=2000,
                runtime=10,
            params:
                kind="figure",
                experiment=_exp.name,
                figure=_fig.name,
                settings=config[_exp.name],
                plugins=config["plugins"],
                code=CODE,
            script:
                "../scripts/job.py"

"""Seeing the results: plots and a report per experiment, one table over experiments.

- :mod:`asd_lib.report.scored_set`: a scored set (scores, labels, groups, embeddings,
  decision thresholds) read back from stage 4's outputs and the data dir;
- :mod:`asd_lib.report.plots`: ROC curves, score histograms, t-SNE maps, training curves;
- :mod:`asd_lib.report.report`: ``exp/<tag>/report.md``, the plots beside the result tables;
- :mod:`asd_lib.report.aggregate`: every experiment's results in one Markdown table.

They read experiment dirs through :func:`asd_lib.experiment.load_experiment`.
"""

"""Synthetic demo data: partner workbooks for the bundled ``raw/`` folder.

Demo-data generation is not part of the pipeline, so it lives outside ``core``;
``clusterix sample`` calls :func:`pipelines.demo.sample.write_samples`.
"""

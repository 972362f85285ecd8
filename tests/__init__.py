"""The test suite: unit/ mirrors pipelines/, integration/ runs the pipeline."""

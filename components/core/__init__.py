"""The floor every other imports: config, errors, feature names, log, work-directory layout, served request format.
It imports nothing of ours."""

"""The thin TFX adapters: preprocessing_fn, run_fn and our custom components. The only code that knows TFX."""
